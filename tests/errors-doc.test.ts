// ERRORS.md is what client teams read for each `extensions.code`: its tables must say what
// the catalogue the code throws from says, code for code.
import { readFileSync } from "node:fs";
import { ERROR_CATALOGUE } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { ERRORS_DOC, errorTables, withErrorTables } from "../scripts/errors-doc-tables.js";

describe("ERRORS.md", () => {
  const committed = readFileSync(ERRORS_DOC, "utf8");

  it("has the tables the error catalogue writes", () => {
    expect(
      withErrorTables(committed),
      "packages/gateway/ERRORS.md is out of date: run `npm run errors:doc` and commit it",
    ).toBe(committed);
  });

  it("lists every code of the catalogue once", () => {
    const tables = errorTables();
    for (const code of Object.keys(ERROR_CATALOGUE)) {
      expect(tables.split(`| \`${code}\` |`).length - 1, code).toBe(1);
    }
  });
});
