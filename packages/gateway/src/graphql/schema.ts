import { makeExecutableSchema } from "@graphql-tools/schema";
import type { TaskRegistry, TaskResolverHelpers } from "@padt/task-api";
import type { GraphQLSchema } from "graphql";
import { baseTypeDefs } from "./base_schema.js";

// biome-ignore lint/suspicious/noExplicitAny: resolver maps are checked by graphql-tools against the SDL at start-up.
export type ResolverMap = Record<string, any>;

/**
 * The served schema: the public base plus each registered plugin's slice. A plugin whose
 * slice does not merge (an unknown type, a clashing field) fails here, at start-up.
 */
export function buildSchema(options: {
  tasks: TaskRegistry;
  resolvers: ResolverMap;
  helpers: TaskResolverHelpers;
}): GraphQLSchema {
  const plugins = options.tasks.list();
  return makeExecutableSchema({
    typeDefs: [baseTypeDefs, ...plugins.map((p) => p.graphql.typeDefs)],
    resolvers: [
      options.resolvers,
      ...plugins.flatMap((p) =>
        p.graphql.resolvers ? [p.graphql.resolvers(options.helpers)] : [],
      ),
    ],
    resolverValidationOptions: { requireResolversToMatchSchema: "error" },
  });
}
