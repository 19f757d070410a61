import type { Database } from "../db/database.js";
import { activeApiKeyIds } from "../db/repos/api_keys.js";
import type { Logger } from "./logger.js";

/** An open socket, as far as its key matters. */
export interface KeyedSocket {
  keyId: string;
  /** Ends the socket because its key is no longer active. */
  close(): void;
}

export interface KeyWatchOptions {
  db: Database;
  intervalMs: number;
  /** The sockets open now. */
  sockets: () => Iterable<KeyedSocket>;
  logger: Logger;
}

/**
 * Checks the keys behind open sockets again every `intervalMs`, in one query for all of
 * them, and closes the sockets whose key was revoked or expired. Polling the table (rather
 * than a message from whoever revoked) also sees a revocation made by the CLI in another
 * process or through another replica, and an expiry, which nobody announces.
 */
export function watchSocketKeys(options: KeyWatchOptions) {
  let inFlight: Promise<void> | undefined;
  const checkOnce = async () => {
    const sockets = [...options.sockets()];
    if (sockets.length === 0) return;
    const ids = [...new Set(sockets.map((s) => s.keyId))];
    const active = await activeApiKeyIds(options.db, ids);
    for (const socket of sockets) if (!active.has(socket.keyId)) socket.close();
  };
  const check = () => {
    inFlight ??= checkOnce()
      .catch((error: unknown) =>
        // A failed check keeps the sockets open; the next one tries again.
        options.logger.warn({ err: error }, "could not re-check the keys of open WebSockets"),
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  return {
    /** Runs a check now (or waits for the one under way). */
    check,
    /** Stops checking; resolves once a check under way has finished. */
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
