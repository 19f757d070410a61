// The typed documents in packages/playground/src/gql and examples/node-client/src/gql are
// committed (a fresh clone builds without running codegen), so they must be what codegen writes
// now from the published schema and the clients' graphql() calls.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config from "../codegen.js";

const root = join(import.meta.dirname, "..");

describe("generated client types", () => {
  it("are what `npm run codegen` writes", async () => {
    const files = await generate({ ...config, cwd: root }, false);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const path = join(root, file.filename);
      expect(
        readFileSync(path, "utf8"),
        `${file.filename} is out of date: run \`npm run codegen\` and commit it`,
      ).toBe(file.content);
    }
  });
});
