// The published schema (packages/gateway/schema.graphql) is what client teams and the codegen
// build against, so it must be exactly what the server builds with the shipped plugins.
import { readFileSync } from "node:fs";
import { publishedSchemaSdl } from "@padt/gateway";
import { describe, expect, it } from "vitest";
import { PUBLISHED_SCHEMA } from "../scripts/schema-paths.js";

describe("published schema", () => {
  it("is what the server builds with the shipped plugins", async () => {
    const committed = readFileSync(PUBLISHED_SCHEMA, "utf8");
    expect(
      await publishedSchemaSdl(),
      "packages/gateway/schema.graphql is out of date: run `npm run schema` and commit it",
    ).toBe(committed);
  });
});
