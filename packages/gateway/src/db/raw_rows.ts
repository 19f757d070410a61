import { getTableColumns, type InferSelectModel } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/**
 * A row of `table` as drizzle's query builder would return it, from a raw `db.execute` row
 * (keys are column names; values as the driver gave them: a timestamp may be a string or a
 * Date, an array its literal or a JS array): for the few statements the builder cannot
 * express, such as one that updates and inserts through data-modifying CTEs.
 */
export function rowOf<T extends PgTable>(
  table: T,
  raw: Record<string, unknown>,
): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}
