import type { ResolverMap } from "../schema.js";
import { mutationResolvers } from "./mutation.js";
import { queryResolvers } from "./query.js";
import { visualRefResolvers } from "./refs.js";
import { subscriptionResolvers } from "./subscription.js";
import { typeResolvers } from "./types.js";

/** Every resolver of the base schema; plugins add theirs for their result types. */
export const resolvers: ResolverMap = {
  ...typeResolvers,
  ...visualRefResolvers,
  ...queryResolvers,
  ...mutationResolvers,
  ...subscriptionResolvers,
};

export { visualRefHelpers } from "./helpers.js";
