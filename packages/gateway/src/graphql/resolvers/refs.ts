import { ErrorCode } from "@padt/protocol";
import type { RefPayload } from "../../conversation/events.js";
import { visualRefId } from "../../conversation/refs.js";
import { DbError } from "../../db/errors.js";
import { partBox, partMask } from "../../db/repos/parts.js";
import type { MessagePart } from "../../db/schema.js";
import type { Context } from "../context.js";

/**
 * A VisualRef as resolvers pass it around: which message and index it is, and its data when
 * the parent already has it (a stream event's payload, a part row); otherwise it is loaded
 * through the request's loaders (task results only know the index).
 */
export interface RefParent {
  messageId: string;
  index: number;
  data?: RefPayload;
}

export function refFromPart(part: MessagePart): RefParent {
  return {
    messageId: part.messageId,
    index: part.refIndex ?? 0,
    data: {
      index: part.refIndex ?? 0,
      label: part.label,
      imageId: part.imageId ?? "",
      patches: part.patches ?? [],
      decoded: part.decoded,
      box: partBox(part),
      mask: partMask(part),
      score: part.score,
    },
  };
}

async function data(parent: RefParent, ctx: Context): Promise<RefPayload> {
  if (parent.data) return parent.data;
  const refs = await ctx.loaders.refsByMessageId.load(parent.messageId);
  const part = refs.find((p) => p.refIndex === parent.index);
  if (!part) throw new DbError(ErrorCode.NOT_FOUND, "Visual reference not found");
  return refFromPart(part).data!;
}

/** Does this reference exist (for node(id))? */
export async function refExists(parent: RefParent, ctx: Context): Promise<boolean> {
  const refs = await ctx.loaders.refsByMessageId.load(parent.messageId);
  return refs.some((p) => p.refIndex === parent.index);
}

export const visualRefResolvers = {
  VisualRef: {
    id: (p: RefParent) => visualRefId(p.messageId, p.index),
    index: (p: RefParent) => p.index,
    label: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).label,
    image: async (p: RefParent, _: unknown, ctx: Context) => {
      const image = await ctx.loaders.imageById.load((await data(p, ctx)).imageId);
      if (!image) throw new DbError(ErrorCode.NOT_FOUND, "Image not found");
      return image;
    },
    patches: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).patches,
    decoded: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).decoded,
    box: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).box,
    mask: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).mask,
    score: async (p: RefParent, _: unknown, ctx: Context) => (await data(p, ctx)).score,
  },
};
