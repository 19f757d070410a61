import type { TaskResolverHelpers } from "@padt/task-api";
import type { RefParent } from "./refs.js";

/** What plugins' result resolvers use: a lazy VisualRef, loaded by the VisualRef resolvers. */
export const visualRefHelpers: TaskResolverHelpers = {
  visualRef: (parent, index): RefParent => ({ messageId: parent.messageId, index }),
};
