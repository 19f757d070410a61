import { fileURLToPath } from "node:url";

const at = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** What clients build against: the schema `padt serve` serves with the shipped plugins. */
export const PUBLISHED_SCHEMA = at("packages/gateway/schema.graphql");
/** The schema of the last release; breaking changes are counted against it. */
export const RELEASED_SCHEMA = at("packages/gateway/schema.released.graphql");
/** Where a breaking change is acknowledged, under "## Unreleased". */
export const SCHEMA_CHANGELOG = at("packages/gateway/CHANGELOG.md");
