import { PubSub, type Topic } from "./pubsub.js";

/** What sessionEvents subscribers are told; they load the rows themselves. */
export type SessionEventPayload =
  | { type: "message_added"; messageId: string }
  | { type: "message_status_changed"; messageId: string }
  | { type: "session_renamed"; sessionId: string };

/** Why whoever runs a generation is asked to stop it (by message id, from any replica). */
export type StopSignal = "cancelled" | "abandoned";

/** A replica's messageEvents subscribers came or went (generation/presence.ts). */
export interface PresenceNotice {
  /** The announcing replica. */
  from: string;
  ids: string[];
  /** true: watching (first join, or a heartbeat); false: its last subscriber left. */
  watching: boolean;
}

/**
 * A gateway replica's line of refused sends changed (queue/queued_generations.ts): the place
 * promised to a requester, or (no `frees`) its place is gone. Times are ms since the epoch.
 */
export interface LineNotice {
  from: string;
  ownerId: string;
  sessionId: string;
  frees?: number;
  back?: number;
}

/**
 * Wake-ups for subscriptions, by topic = message id (payload: the new last seq) or session
 * id. Only ids and numbers travel here (what LISTEN/NOTIFY could carry across replicas);
 * subscribers read the events themselves from the database. `stops` reaches the process
 * running a generation, wherever the cancel was asked; `presence` tells it who still watches.
 */
export interface Bus {
  messages: Topic<number>;
  sessions: Topic<SessionEventPayload>;
  stops: Topic<StopSignal>;
  presence: Topic<PresenceNotice>;
  /** The replicas' lines of refused sends, so that all of them keep the places promised. */
  line: Topic<LineNotice>;
  /** messageEvents streams open now (shutdown lets them deliver their last events). */
  openMessageStreams: number;
}

/** The one-process bus (embedded mode): in-memory topics. */
export function createBus(): Bus {
  return {
    messages: new PubSub<number>(),
    sessions: new PubSub<SessionEventPayload>(),
    stops: new PubSub<StopSignal>(),
    presence: new PubSub<PresenceNotice>(),
    line: new PubSub<LineNotice>(),
    openMessageStreams: 0,
  };
}
