// `npm run lint:schema` (part of `npm run lint`): the schema the code builds against the last
// released one; see schema-breaking.ts for why. Cutting a release: copy schema.graphql over
// schema.released.graphql and turn "## Unreleased" in the changelog into the version's heading.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { publishedSchemaSdl } from "@padt/gateway";
import { breakingChanges, unacknowledged } from "./schema-breaking.js";
import { RELEASED_SCHEMA, SCHEMA_CHANGELOG } from "./schema-paths.js";

const changes = await breakingChanges(
  readFileSync(RELEASED_SCHEMA, "utf8"),
  await publishedSchemaSdl(),
);
const missing = unacknowledged(changes, readFileSync(SCHEMA_CHANGELOG, "utf8"));
for (const change of missing)
  console.error(`breaking: ${change.message} (\`${change.path ?? change.message}\`)`);
if (missing.length > 0) {
  console.error(
    `\n${missing.length} breaking schema change(s) since the last release. Keep the old ` +
      `shape (deprecate instead of removing), or name each path above under "## Unreleased" ` +
      `in ${relative(process.cwd(), SCHEMA_CHANGELOG)}.`,
  );
  process.exitCode = 1;
} else {
  console.log(`schema: no unacknowledged breaking change (${changes.length} acknowledged)`);
}
