import type { TaskRegistry } from "@padt/task-api";
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { SHIPPED_TASKS } from "../config.js";
import { loadTasks } from "../tasks.js";
import { resolvers, visualRefHelpers } from "./resolvers/index.js";
import { buildSchema } from "./schema.js";

/** The schema the server serves for these plugins: the base, the resolvers, each plugin's slice. */
export function servedSchema(tasks: TaskRegistry): GraphQLSchema {
  return buildSchema({ tasks, resolvers, helpers: visualRefHelpers });
}

/**
 * SDL of a schema as it is published (schema.graphql): sorted, so that the order in which
 * plugins are listed or fields are written does not show up as a diff for client teams.
 */
export function printPublishedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The published schema: what `padt serve` serves with the plugins that ship by default. */
export async function publishedSchemaSdl(): Promise<string> {
  return printPublishedSchema(servedSchema(await loadTasks(SHIPPED_TASKS)));
}
