// `npm run schema`: writes the published schema (packages/gateway/schema.graphql) from the code
// the server runs, so client teams get the schema without introspecting a live server. The
// drift test (tests/schema-published.test.ts) fails when the committed file is out of date.
import { writeFileSync } from "node:fs";
import { publishedSchemaSdl } from "@padt/gateway";
import { PUBLISHED_SCHEMA } from "./schema-paths.js";

writeFileSync(PUBLISHED_SCHEMA, await publishedSchemaSdl());
console.log(`wrote ${PUBLISHED_SCHEMA}`);
