// The breaking-change rule for the published schema. Client teams build against
// packages/gateway/schema.graphql; a change that breaks what they already wrote (a field or type
// removed, a type narrowed, a new required argument) must be a decision, not an accident. So a
// breaking change since the last release (schema.released.graphql) fails lint until the schema
// changelog names it, by path in backticks, under "## Unreleased". graphql-inspector decides what
// is breaking, so the rule is the one its users know, not a list of our own.
import { type Change, CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";

/** The changes from `baseline` to `current` that break existing clients. */
export async function breakingChanges(baseline: string, current: string): Promise<Change[]> {
  const changes = await diff(buildSchema(baseline), buildSchema(current));
  return changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
}

/** The text between "## Unreleased" and the next "## " heading (the entries not yet released). */
export function unreleasedNotes(changelog: string): string {
  const start = changelog.search(/^## Unreleased\b/m);
  if (start < 0) return "";
  const rest = changelog.slice(start).split("\n").slice(1).join("\n");
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The breaking changes the changelog's Unreleased section does not name (`Type.field`). */
export function unacknowledged(changes: Change[], changelog: string): Change[] {
  const notes = unreleasedNotes(changelog);
  return changes.filter((c) => !notes.includes(`\`${c.path ?? c.message}\``));
}
