export { type EngineOptions, PadtEngine } from "./engine.js";
