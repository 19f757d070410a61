import { ErrorCode } from "@padt/protocol";
import type { SessionEventPayload } from "../../bus.js";
import {
  type EventPayloads,
  isTerminalEvent,
  MESSAGE_EVENT_TYPES,
} from "../../conversation/events.js";
import { DbError } from "../../db/errors.js";
import { recentEventsOf } from "../../db/recent_events.js";
import { listEvents } from "../../db/repos/events.js";
import { getMessage, isFinished } from "../../db/repos/messages.js";
import { getSession } from "../../db/repos/sessions.js";
import type { Message, MessageEvent, MessageStatus } from "../../db/schema.js";
import { closable, LiveQueue } from "../../live.js";
import type { Context } from "../context.js";

const REPLAY_BATCH = 500;

/**
 * A stream event; a terminal one also carries its message as the stream last saw it, which
 * its `message` field falls back to when the message is deleted (its session was) before
 * the field resolves.
 */
export type StreamEvent = MessageEvent & { known?: Message };

const FINAL_STATUS: Partial<Record<MessageEvent["type"], MessageStatus>> = {
  completed: "complete",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
};

function withKnown(row: MessageEvent, message: Message): StreamEvent {
  const status = FINAL_STATUS[row.type];
  return status ? { ...row, known: { ...message, status, lastSeq: row.seq } } : row;
}

/**
 * messageEvents: the events after `afterSeq` from the database, then live ones. The wake-up
 * subscription is taken BEFORE the message is first read, so anything committed after that
 * read (an event, the end, a deletion) still wakes us; every read starts after the last seq
 * sent, so nothing repeats; what this process wrote itself comes from memory when all of it
 * is there (db/recent_events.ts). The first read also says whether there is anything to replay:
 * with nothing after `afterSeq` yet (a subscription started right after sendMessage) the
 * stream waits at once, without reading the events table. Ends after the terminal event (or
 * at once for a finished message with nothing left). A message deleted meanwhile
 * (deleteSession cancels its answers first) ends the stream with MessageCancelled, never a
 * NOT_FOUND error.
 */
export async function messageEventStream(
  ctx: Context,
  messageId: string,
  afterSeq: number,
): Promise<AsyncIterableIterator<StreamEvent>> {
  const { db, bus, runner } = ctx.services;
  const ownerId = ctx.owner.id;
  // Topics are the stored (lower-case) ids.
  let live = new LiveQueue(bus.messages, messageId.toLowerCase());
  let message: Message | undefined;
  try {
    message = await getMessage(db, ownerId, messageId);
  } finally {
    if (!message) live.close();
  }
  if (!message) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
  // Read after the wake-ups were subscribed to (not so if the topic was not the stored id).
  let fresh = message.id === messageId.toLowerCase();
  if (!fresh) {
    live.close();
    live = new LiveQueue(bus.messages, message.id);
  }
  const queue = live;
  runner.subscriberJoined(message.id);
  bus.openMessageStreams += 1;
  let known: Message = message;
  const recent = recentEventsOf(db);
  async function* events(): AsyncGenerator<StreamEvent, void, undefined> {
    let seq = Math.max(0, afterSeq);
    // The highest seq known to be committed: read, or announced by a wake-up.
    let through = known.lastSeq;
    while (!queue.closed) {
      for (const announced of queue.drain()) through = Math.max(through, announced);
      if (fresh && through <= seq) {
        // Nothing stored after `seq` when `known` was read, nor announced since (the queue
        // is empty now): any later change wakes us.
        fresh = false;
        if (isFinished(known.status)) return;
        await queue.wait();
        continue;
      }
      fresh = false;
      // What this process wrote itself, when it holds all of it; the table otherwise.
      const rows =
        recent?.after(known.id, seq, through, REPLAY_BATCH) ??
        (await listEvents(db, ownerId, known.id, { afterSeq: seq, limit: REPLAY_BATCH }));
      for (const row of rows) {
        seq = row.seq;
        yield withKnown(row, known);
        if (isTerminalEvent(row.type)) return;
      }
      if (rows.length === REPLAY_BATCH) continue;
      if (rows.length === 0) {
        const now = await getMessage(db, ownerId, known.id);
        if (!now) {
          // Deleted, events and all, before this subscriber read its end.
          yield deletedEnd(known, seq);
          return;
        }
        known = now;
        through = Math.max(through, now.lastSeq);
        if (isFinished(now.status) && now.lastSeq <= seq) return;
      }
      await queue.wait();
    }
  }
  return closable(events(), () => {
    queue.close();
    bus.openMessageStreams -= 1;
    runner.subscriberLeft(known.id);
  });
}

/** The MessageCancelled that ends the stream of a message deleted before it finished. */
function deletedEnd(message: Message, seq: number): StreamEvent {
  const row: MessageEvent = {
    messageId: message.id,
    seq: seq + 1,
    type: "cancelled",
    payload: {},
    createdAt: new Date(),
  };
  return withKnown(row, message);
}

export async function sessionEventStream(
  ctx: Context,
  sessionId: string,
): Promise<AsyncIterableIterator<SessionEventPayload>> {
  const session = await getSession(ctx.services.db, ctx.owner.id, sessionId);
  if (!session) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
  const live = new LiveQueue(ctx.services.bus.sessions, session.id);
  async function* events(): AsyncGenerator<SessionEventPayload, void, undefined> {
    while (!live.closed) {
      for (const payload of live.drain()) yield payload;
      await live.wait();
    }
  }
  return closable(events(), () => live.close());
}

async function messageOf(e: StreamEvent, ctx: Context) {
  const message = (await ctx.loaders.messageById.load(e.messageId)) ?? e.known;
  if (!message) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
  return message;
}

export const subscriptionResolvers = {
  Subscription: {
    messageEvents: {
      subscribe: (
        _: unknown,
        args: { messageId: string; afterSeq?: number | null },
        ctx: Context,
      ) => messageEventStream(ctx, args.messageId, args.afterSeq ?? 0),
      resolve: (event: StreamEvent) => event,
    },
    sessionEvents: {
      subscribe: (_: unknown, args: { sessionId: string }, ctx: Context) =>
        sessionEventStream(ctx, args.sessionId),
      resolve: (payload: SessionEventPayload) => payload,
    },
  },
  MessageEvent: { __resolveType: (e: MessageEvent) => MESSAGE_EVENT_TYPES[e.type].graphql },
  TextDelta: { text: (e: MessageEvent) => (e.payload as EventPayloads["text_delta"]).text },
  VisualRefStarted: {
    ref: (e: MessageEvent) => {
      const { ref } = e.payload as EventPayloads["visual_ref_started"];
      return { messageId: e.messageId, index: ref.index, data: ref };
    },
  },
  VisualRefDecoded: {
    ref: (e: MessageEvent) => {
      const { ref } = e.payload as EventPayloads["visual_ref_decoded"];
      return { messageId: e.messageId, index: ref.index, data: ref };
    },
  },
  MessageCompleted: { message: (e: StreamEvent, _: unknown, ctx: Context) => messageOf(e, ctx) },
  MessageCancelled: { message: (e: StreamEvent, _: unknown, ctx: Context) => messageOf(e, ctx) },
  MessageFailed: {
    error: (e: MessageEvent) =>
      e.type === "interrupted"
        ? {
            code: ErrorCode.INTERRUPTED,
            message: "The server stopped while this answer was being generated",
          }
        : (e.payload as EventPayloads["failed"]).error,
  },
  SessionEvent: {
    __resolveType: (p: SessionEventPayload) =>
      ({
        message_added: "MessageAdded",
        message_status_changed: "MessageStatusChanged",
        session_renamed: "SessionRenamed",
      })[p.type],
  },
  MessageAdded: {
    message: (p: { messageId: string }, _: unknown, ctx: Context) => loadMessage(p.messageId, ctx),
    session: async (p: { messageId: string }, _: unknown, ctx: Context) => {
      const m = await loadMessage(p.messageId, ctx);
      return ctx.loaders.sessionById.load(m.sessionId);
    },
  },
  MessageStatusChanged: {
    message: (p: { messageId: string }, _: unknown, ctx: Context) => loadMessage(p.messageId, ctx),
  },
  SessionRenamed: {
    session: async (p: { sessionId: string }, _: unknown, ctx: Context) => {
      const s = await ctx.loaders.sessionById.load(p.sessionId);
      if (!s) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
      return s;
    },
  },
};

async function loadMessage(id: string, ctx: Context) {
  const m = await ctx.loaders.messageById.load(id);
  if (!m) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
  return m;
}
