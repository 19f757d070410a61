import { useEffect, useRef, useState } from "react";
import type { PlaygroundClient } from "./client.js";
import { describeError } from "./errors.js";
import { MESSAGE_EVENTS, messageQuery } from "./queries.js";
import { applyEvent, emptyStream, isFinished, type StreamState } from "./stream.js";
import type { TaskInfo } from "./types.js";

/**
 * Follows one assistant message over messageEvents. When the socket drops, it subscribes
 * again with afterSeq = the last seq seen, so no text is lost or repeated; when the answer
 * ends, it reads the typed result.
 */
export function useMessageStream(
  client: PlaygroundClient,
  messageId: string,
  tasks: TaskInfo[],
  initial?: StreamState,
): { state: StreamState; streamError: string | null; reconnects: number } {
  const [state, setState] = useState<StreamState>(initial ?? emptyStream(messageId));
  const [streamError, setStreamError] = useState<string | null>(null);
  const [reconnects, setReconnects] = useState(0);
  const live = useRef(state);
  live.current = state;
  const finished = isFinished(state.status);

  useEffect(() => {
    if (finished) return;
    let stopped = false;
    let subscription: { unsubscribe(): void } | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const start = () => {
      subscription = client.urql
        .subscription(MESSAGE_EVENTS, { m: messageId, after: live.current.lastSeq })
        .subscribe((result) => {
          if (result.error) return setStreamError(describeError(result.error));
          const event = result.data?.messageEvents;
          if (!event) return;
          setStreamError(null);
          setState((s) => applyEvent(s, event));
        });
    };
    const restart = () => {
      if (stopped) return;
      subscription?.unsubscribe();
      clearTimeout(retry);
      retry = setTimeout(() => {
        if (stopped || isFinished(live.current.status)) return;
        setReconnects((n) => n + 1);
        start();
      }, 300);
    };
    const off = client.onSocketClosed(restart);
    start();
    return () => {
      stopped = true;
      off();
      clearTimeout(retry);
      subscription?.unsubscribe();
    };
  }, [client, messageId, finished]);

  useEffect(() => {
    if (!finished || state.result || state.usage !== undefined) return;
    let cancelled = false;
    void client.urql
      .query(messageQuery(tasks), { m: messageId })
      .toPromise()
      .then((r) => {
        if (cancelled) return;
        if (r.error) return setStreamError(describeError(r.error));
        const result = r.data?.message?.result ?? null;
        const usage = r.data?.message?.usage ?? null;
        setState((s) => ({ ...s, result, usage }));
      });
    return () => {
      cancelled = true;
    };
  }, [client, messageId, finished, state.result, state.usage, tasks]);

  return { state, streamError, reconnects };
}
