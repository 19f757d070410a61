import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { Limits } from "../config.js";

/**
 * The query limits, as graphql-armor protections. The same validation rules run on HTTP (as
 * Apollo validation rules) and on the WebSocket (in graphql-ws onSubscribe), where the token
 * limit is graphql-js's own parser option.
 */
export function queryProtection(limits: Limits, production: boolean) {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.queryDepth, exposeLimits: true, ignoreIntrospection: true },
    costLimit: { maxCost: limits.queryCost, exposeLimits: true, ignoreIntrospection: true },
    maxAliases: { n: limits.queryAliases, exposeLimits: true },
    maxDirectives: { n: 50, exposeLimits: true },
    // Tokens are limited by graphql-js's parser itself (Apollo parseOptions, and parse() on
    // the WebSocket): armor's parser plugin answers 500 instead of 400.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  });
  return armor.protect();
}
