import { parseVisualRefId } from "../../conversation/refs.js";
import type { PageArgs } from "../../db/pagination.js";
import { listSessions } from "../../db/repos/sessions.js";
import type { Context } from "../context.js";
import { refExists } from "./refs.js";

/** node(id): a VisualRef id by its prefix; any other id is a UUID, unique across tables. */
async function node(id: string, ctx: Context) {
  const ref = parseVisualRefId(id);
  if (ref) return (await refExists(ref, ctx)) ? { ...ref, __typename: "VisualRef" } : null;
  const [session, message, image] = await Promise.all([
    ctx.loaders.sessionById.load(id),
    ctx.loaders.messageById.load(id),
    ctx.loaders.imageById.load(id),
  ]);
  if (session) return { ...session, __typename: "ChatSession" };
  if (message) return { ...message, __typename: "Message" };
  if (image) return { ...image, __typename: "Image" };
  return null;
}

export const queryResolvers = {
  Query: {
    node: (_: unknown, args: { id: string }, ctx: Context) => node(args.id, ctx),
    sessions: (_: unknown, args: PageArgs, ctx: Context) =>
      listSessions(ctx.services.db, ctx.owner.id, args),
    session: (_: unknown, args: { id: string }, ctx: Context) =>
      ctx.loaders.sessionById.load(args.id),
    message: (_: unknown, args: { id: string }, ctx: Context) =>
      ctx.loaders.messageById.load(args.id),
    image: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.imageById.load(args.id),
    tasks: (_: unknown, __: unknown, ctx: Context) =>
      ctx.services.tasks.list().map((p) => ({
        name: p.name,
        description: p.description,
        inputType: p.graphql.inputType,
        resultType: p.graphql.resultType,
        inputField: p.graphql.inputField,
        supported: ctx.services.engine.info.supportedTasks.includes(p.name),
      })),
    model: (_: unknown, __: unknown, ctx: Context) => ({
      ...ctx.services.engine.info,
      fallbackReason: ctx.services.engine.info.fallbackReason ?? null,
      // On a gateway, the bundle read here describes the model; the workers say who runs it.
      serving: () => ctx.services.runner.serving(),
    }),
    viewer: (_: unknown, __: unknown, ctx: Context) => ({ id: ctx.owner.id, name: ctx.owner.name }),
  },
};
