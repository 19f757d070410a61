#!/usr/bin/env node
// Runs the tools/ Python environment, creating tools/.venv on first use and
// re-installing when tools/requirements.txt changes (a hash stamp inside the venv).
// Usage: node scripts/python.mjs <python args...>   (cwd: tools/)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const tools = join(dirname(fileURLToPath(import.meta.url)), "..", "tools");
const venv = join(tools, ".venv");
const python = join(venv, "bin", "python");
const stamp = join(venv, ".requirements.sha256");

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: tools, stdio: "inherit" });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const wanted = createHash("sha256")
  .update(readFileSync(join(tools, "requirements.txt")))
  .digest("hex");
const have = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
if (have !== wanted) {
  const base = process.env.PYTHON ?? "python3";
  if (!existsSync(python) && run(base, ["-m", "venv", venv]) !== 0) process.exit(1);
  console.error(
    "[python] installing tools/requirements.txt into tools/.venv (first run takes minutes)",
  );
  if (run(python, ["-m", "pip", "install", "-q", "-r", "requirements.txt"]) !== 0) process.exit(1);
  writeFileSync(stamp, `${wanted}\n`);
}
process.exit(run(python, process.argv.slice(2)));
