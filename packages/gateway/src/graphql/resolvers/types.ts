import { ErrorCode } from "@padt/protocol";
import { GraphQLScalarType, Kind } from "graphql";
import { DbError } from "../../db/errors.js";
import type { PageArgs } from "../../db/pagination.js";
import type { ImageMeta } from "../../db/repos/images.js";
import { listMessages } from "../../db/repos/messages.js";
import type { Message, MessagePart, Session } from "../../db/schema.js";
import type { Context } from "../context.js";
import { type RefParent, refFromPart } from "./refs.js";

export const DateTime = new GraphQLScalarType({
  name: "DateTime",
  description: "An ISO 8601 instant, e.g. 2026-01-31T12:00:00.000Z",
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime()))
      throw new TypeError("DateTime cannot represent an invalid date");
    return date.toISOString();
  },
  parseValue: (value) => {
    const date = new Date(String(value));
    if (typeof value !== "string" || Number.isNaN(date.getTime()))
      throw new TypeError("DateTime must be an ISO 8601 string");
    return date;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new TypeError("DateTime must be an ISO 8601 string");
    return new Date(ast.value);
  },
});

type PartParent =
  | { __typename: "TextPart"; text: string }
  | { __typename: "ImagePart"; imageId: string }
  | { __typename: "VisualRefPart"; ref: RefParent };

function partParent(part: MessagePart): PartParent {
  switch (part.kind) {
    case "text":
      return { __typename: "TextPart", text: part.text ?? "" };
    case "image":
      return { __typename: "ImagePart", imageId: part.imageId ?? "" };
    case "visual_ref":
      return { __typename: "VisualRefPart", ref: refFromPart(part) };
    default: {
      const unknown: never = part.kind;
      throw new Error(`Unknown part kind ${String(unknown)}`);
    }
  }
}

/** The stored task outcome of a message, as the TaskResult union's member. */
function taskResult(message: Message, ctx: Context, text: () => Promise<string>) {
  if (message.role !== "assistant" || message.status !== "complete") return null;
  if (!message.task) return text().then((t) => ({ __typename: "TextResult", text: t }));
  const plugin = ctx.services.tasks.list().find((p) => p.name === message.task);
  const outcome = message.result as {
    result?: object;
    partial?: boolean;
    issues?: string[];
  } | null;
  if (!plugin || !outcome?.result) return null;
  return {
    ...outcome.result,
    partial: outcome.partial ?? false,
    issues: outcome.issues ?? [],
    messageId: message.id,
    __typename: plugin.graphql.resultType,
  };
}

async function messageText(message: Message, ctx: Context): Promise<string> {
  const parts = await ctx.loaders.partsByMessageId.load(message.id);
  return parts
    .map((p) =>
      p.kind === "text" ? (p.text ?? "") : p.kind === "visual_ref" ? (p.label ?? "") : "",
    )
    .join("");
}

export const typeResolvers = {
  DateTime,
  Node: { __resolveType: (p: { __typename: string }) => p.__typename },
  MessagePart: { __resolveType: (p: PartParent) => p.__typename },
  TaskResult: { __resolveType: (p: { __typename: string }) => p.__typename },
  ImagePart: {
    image: async (p: { imageId: string }, _: unknown, ctx: Context) => {
      const image = await ctx.loaders.imageById.load(p.imageId);
      if (!image) throw new DbError(ErrorCode.NOT_FOUND, "Image not found");
      return image;
    },
  },
  ChatSession: {
    messages: (s: Session, args: PageArgs, ctx: Context) =>
      listMessages(ctx.services.db, ctx.owner.id, s.id, args),
  },
  Message: {
    session: async (m: Message, _: unknown, ctx: Context) => {
      const session = await ctx.loaders.sessionById.load(m.sessionId);
      if (!session) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
      return session;
    },
    role: (m: Message) => m.role.toUpperCase(),
    status: (m: Message) => m.status.toUpperCase(),
    parts: async (m: Message, _: unknown, ctx: Context) =>
      (await ctx.loaders.partsByMessageId.load(m.id)).map(partParent),
    text: (m: Message, _: unknown, ctx: Context) => messageText(m, ctx),
    visualRefs: async (m: Message, _: unknown, ctx: Context) =>
      (await ctx.loaders.refsByMessageId.load(m.id)).map(refFromPart),
    result: (m: Message, _: unknown, ctx: Context) => taskResult(m, ctx, () => messageText(m, ctx)),
    error: (m: Message) =>
      m.errorCode ? { code: m.errorCode, message: m.errorMessage ?? m.errorCode } : null,
    usage: (m: Message) => m.usage ?? null,
    historyTrim: (m: Message) => m.metadata?.historyTrim ?? null,
  },
  Image: {
    url: (i: ImageMeta) => `/images/${i.id}`,
    gridWidth: async (i: ImageMeta, _: unknown, ctx: Context) =>
      (await ctx.services.images.grid(ctx.services.db, i)).gridWidth,
    gridHeight: async (i: ImageMeta, _: unknown, ctx: Context) =>
      (await ctx.services.images.grid(ctx.services.db, i)).gridHeight,
  },
};
