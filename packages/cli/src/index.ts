export { type Io, main } from "./cli.js";
