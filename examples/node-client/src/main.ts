// npm start -w @padt/example-node-client -- <image> "<expression>"
// Prints what happens, then the result as one JSON line (for scripts and the repository's test).
import { resolve } from "node:path";
import { runExample } from "./client.js";

const [image, expression] = process.argv.slice(2);
const key = process.env.PADT_API_KEY;
if (!image || !expression || !key) {
  console.error(
    'usage: PADT_API_KEY=padt_... [PADT_URL=http://127.0.0.1:4000] main.ts <image> "<expression>"',
  );
  process.exit(2);
}
const result = await runExample({
  url: process.env.PADT_URL ?? "http://127.0.0.1:4000",
  key,
  // `npm start -w` runs here; a relative path means where npm was started (INIT_CWD).
  image: resolve(process.env.INIT_CWD ?? process.cwd(), image),
  expression,
  log: (line) => console.log(line),
});
console.log(JSON.stringify(result));
