import type { ConnectionState } from "../lib/client.js";

/** Says when the server cannot be reached; the page keeps trying and recovers by itself. */
export function ConnectionBanner({ state }: { state: ConnectionState }) {
  return (
    <div
      className={`connection ${state}`}
      data-testid="connection"
      data-state={state}
      role="status"
      aria-live="polite"
    >
      {state === "reconnecting" &&
        "Server unreachable — reconnecting… Answers resume where they stopped."}
    </div>
  );
}
