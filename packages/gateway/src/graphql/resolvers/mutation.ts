import { ErrorCode } from "@padt/protocol";
import {
  checkStorable,
  type SendMessageInput,
  validateMessage,
} from "../../conversation/validate.js";
import { DbError } from "../../db/errors.js";
import { storeExchange } from "../../db/repos/exchange.js";
import { getMessage, isFinished } from "../../db/repos/messages.js";
import { createSession, deleteSession, renameSession } from "../../db/repos/sessions.js";
import { gatewayError } from "../../errors.js";
import type { GenerationJob } from "../../generation/job.js";
import { decodeBase64Image } from "../../images.js";
import { operationTraceparent } from "../../server/trace_plugin.js";
import type { Context } from "../context.js";

const MAX_TITLE = 200;

function checkTitle(title: string | null | undefined): string | null {
  if (title && title.length > MAX_TITLE)
    throw gatewayError(ErrorCode.TEXT_TOO_LONG, `a title has at most ${MAX_TITLE} characters`);
  checkStorable(title, "title");
  return title ?? null;
}

/**
 * sendMessage: validate everything (nothing written on a refusal), take a place in the run
 * queue (QUEUE_FULL / TOO_MANY_GENERATIONS before writing), write the user message and the
 * pending answer in one transaction, with the answer's lease or queue job in the same one
 * (`runner.enqueue`), then hand the answer to the runner. A retry with the same idempotency
 * key returns the first exchange and starts nothing.
 */
async function sendMessage(input: SendMessageInput, ctx: Context) {
  const { services, owner } = ctx;
  const valid = await validateMessage(
    {
      db: services.db,
      ownerId: owner.id,
      tasks: services.tasks,
      images: services.images,
      limits: services.limits,
    },
    input,
  );
  const reservation = services.runner.reserve({ ownerId: owner.id, sessionId: input.sessionId });
  let stored: { exchange: Awaited<ReturnType<typeof storeExchange>>; job?: GenerationJob };
  try {
    stored = await services.db.transaction(async (tx) => {
      const ex = await storeExchange(tx, owner.id, {
        sessionId: input.sessionId,
        parts: valid.parts,
        task: valid.task?.plugin.name ?? null,
        taskInput: valid.task?.input ?? null,
        options: valid.options,
        idempotencyKey: valid.idempotencyKey,
      });
      if (ex.replayed) return { exchange: ex };
      const job: GenerationJob = {
        ownerId: owner.id,
        sessionId: input.sessionId,
        messageId: ex.assistantMessage.id,
        task: ex.assistantMessage.task,
        taskInput: valid.task?.input ?? null,
        options: valid.options,
        // The answer's spans join this request's trace (generation/trace.ts).
        ...operationTraceparent(ctx),
      };
      await services.runner.enqueue(tx, job);
      return { exchange: ex, job };
    });
  } catch (error) {
    services.runner.release(reservation);
    throw error;
  }
  const { exchange, job } = stored;
  const { userMessage, assistantMessage } = exchange;
  if (!job) {
    services.runner.release(reservation);
  } else {
    services.runner.start(reservation, job);
    for (const m of [userMessage, assistantMessage])
      services.bus.sessions.publish(input.sessionId, { type: "message_added", messageId: m.id });
  }
  return { userMessage, assistantMessage };
}

export const mutationResolvers = {
  Mutation: {
    createSession: (_: unknown, args: { input: { title?: string | null } }, ctx: Context) =>
      createSession(ctx.services.db, ctx.owner.id, { title: checkTitle(args.input.title) }),
    renameSession: async (_: unknown, args: { id: string; title: string }, ctx: Context) => {
      const session = await renameSession(
        ctx.services.db,
        ctx.owner.id,
        args.id,
        checkTitle(args.title),
      );
      ctx.services.bus.sessions.publish(session.id, {
        type: "session_renamed",
        sessionId: session.id,
      });
      return session;
    },
    deleteSession: async (_: unknown, args: { id: string }, ctx: Context) => {
      await ctx.services.runner.cancelSession(ctx.owner.id, args.id);
      return deleteSession(ctx.services.db, ctx.owner.id, args.id);
    },
    uploadImage: async (
      _: unknown,
      args: { input: { base64: string; mimeType?: string | null } },
      ctx: Context,
    ) => {
      const { images, db } = ctx.services;
      const bytes = decodeBase64Image(args.input.base64, (n) => images.checkSize(n));
      return images.upload(db, ctx.owner.id, bytes, args.input.mimeType);
    },
    sendMessage: (_: unknown, args: { input: SendMessageInput }, ctx: Context) =>
      sendMessage(args.input, ctx),
    cancelGeneration: async (_: unknown, args: { messageId: string }, ctx: Context) => {
      const { db, runner } = ctx.services;
      const message = await getMessage(db, ctx.owner.id, args.messageId);
      if (!message) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
      if (isFinished(message.status)) return message;
      await runner.cancel(ctx.owner.id, message.id);
      return (await getMessage(db, ctx.owner.id, message.id)) ?? message;
    },
  },
};
