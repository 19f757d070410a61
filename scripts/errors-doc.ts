// `npm run errors:doc`: rewrites the error tables of packages/gateway/ERRORS.md from the one
// catalogue (packages/protocol/src/error_codes.ts). tests/errors-doc.test.ts fails when the
// committed file is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { ERRORS_DOC, withErrorTables } from "./errors-doc-tables.js";

writeFileSync(ERRORS_DOC, withErrorTables(readFileSync(ERRORS_DOC, "utf8")));
console.log(`wrote ${ERRORS_DOC}`);
