import { PubSub } from "./pubsub.js";

/** What sessionEvents subscribers are told; they load the rows themselves. */
export type SessionEventPayload =
  | { type: "message_added"; messageId: string }
  | { type: "message_status_changed"; messageId: string }
  | { type: "session_renamed"; sessionId: string };

/**
 * Wake-ups for subscriptions, by topic = message id (payload: the new last seq) or session
 * id. Only ids and numbers travel here (what LISTEN/NOTIFY could carry across replicas);
 * subscribers read the events themselves from the database.
 */
export interface Bus {
  messages: PubSub<number>;
  sessions: PubSub<SessionEventPayload>;
  /** messageEvents streams open now (shutdown lets them deliver their last events). */
  openMessageStreams: number;
}

export function createBus(): Bus {
  return {
    messages: new PubSub<number>(),
    sessions: new PubSub<SessionEventPayload>(),
    openMessageStreams: 0,
  };
}
