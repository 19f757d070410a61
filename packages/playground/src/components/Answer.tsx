import { useCallback, useEffect, useState } from "react";
import type { ConnectionState, PlaygroundClient } from "../lib/client.js";
import { describeError } from "../lib/errors.js";
import type { Turn } from "../lib/history.js";
import { CANCEL } from "../lib/queries.js";
import { isFinished } from "../lib/stream.js";
import type { TaskInfo, VisualRef } from "../lib/types.js";
import { useMessageStream } from "../lib/useMessageStream.js";
import { Chip } from "./Chip.js";
import { CopyMenu } from "./CopyMenu.js";
import { ResultsPanel, shownRefs } from "./ResultsPanel.js";
import { ResultView } from "./ResultView.js";

interface Props {
  client: PlaygroundClient;
  turn: Turn;
  tasks: TaskInfo[];
  focus: VisualRef | null;
  onFocus(ref: VisualRef | null): void;
  onSelect(ref: VisualRef): void;
  /** The objects this answer shows on the image, as they change. */
  onRefs(answerId: string, refs: VisualRef[]): void;
  connection: ConnectionState;
  /** Shows the debug control that drops the WebSocket. */
  developer: boolean;
  /** Lets Esc cancel the running answer: called with the canceller while it runs, null after. */
  registerCancel(answerId: string, cancel: (() => void) | null): void;
}

/** One assistant answer: streamed text with chips, status, cancel, the objects and the typed result. */
export function Answer(props: Props) {
  const { client, turn, tasks, focus, onFocus, onSelect, onRefs, registerCancel } = props;
  const messageId = turn.assistantId;
  const { state, streamError, reconnects } = useMessageStream(
    client,
    messageId,
    tasks,
    turn.initial,
  );
  const [cancelError, setCancelError] = useState<string | null>(null);
  const finished = isFinished(state.status);
  const refs = Object.values(state.refs);
  const shown = shownRefs(state.result, refs);
  const shownKey = shown.map((r) => `${r.id}:${r.decoded}`).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: shownKey stands for the list.
  useEffect(() => onRefs(messageId, shown), [shownKey, onRefs, messageId]);
  const cancel = useCallback(async () => {
    const r = await client.urql.mutation(CANCEL, { m: messageId }).toPromise();
    setCancelError(r.error ? describeError(r.error) : null);
  }, [client, messageId]);
  useEffect(() => {
    if (finished) return;
    registerCancel(messageId, () => void cancel());
    return () => registerCancel(messageId, null);
  }, [cancel, finished, messageId, registerCancel]);
  const reconnecting = !finished && props.connection === "reconnecting";
  const status = reconnecting ? "reconnecting…" : state.status.toLowerCase();
  const usage = state.usage;
  return (
    <div
      className="answer"
      data-testid="answer"
      data-message-id={messageId}
      data-status={state.status}
      data-last-seq={state.lastSeq}
    >
      <p className="answer-text" data-testid="answer-text" aria-live="polite" aria-busy={!finished}>
        {state.segments.map((s, i) =>
          s.kind === "text" ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: segments are only appended.
            <span key={i}>{s.text}</span>
          ) : (
            <Chip
              key={`ref${s.index}`}
              ref_={state.refs[s.index]!}
              focused={focus?.id === state.refs[s.index]?.id}
              onFocus={onFocus}
              onSelect={onSelect}
            />
          ),
        )}
        {!finished && (
          <span className="cursor" aria-hidden="true">
            ▍
          </span>
        )}
      </p>
      <div className="answer-meta">
        <span data-testid="answer-status" className={reconnecting ? "warn" : ""}>
          {status}
        </span>
        {reconnects > 0 && <span> · resumed {reconnects}×</span>}
        {usage && (
          <span data-testid="answer-usage">
            {usage.promptTokens} prompt + {usage.completionTokens} answer tokens · prefill{" "}
            {Math.round(usage.prefillMs)} ms · decode {Math.round(usage.decodeMs)} ms · masks{" "}
            {Math.round(usage.decoderMs)} ms
          </span>
        )}
        {!finished && (
          <button
            type="button"
            data-testid="cancel"
            aria-keyshortcuts="Escape"
            onClick={() => void cancel()}
          >
            Cancel <kbd>Esc</kbd>
          </button>
        )}
        {!finished && props.developer && (
          <button
            type="button"
            title="Close the WebSocket to try resuming"
            onClick={client.dropSocket}
          >
            Drop connection
          </button>
        )}
        {finished && <CopyMenu turn={turn} state={state} />}
      </div>
      {state.error && (
        <p className="error" role="alert">
          {state.error.code}: {state.error.message}
        </p>
      )}
      {streamError && (
        <p className="error" role="alert">
          {streamError}
        </p>
      )}
      {cancelError && (
        <p className="error" role="alert">
          {cancelError}
        </p>
      )}
      <ResultsPanel result={state.result} refs={refs} focus={focus} onFocus={onFocus} />
      {state.result && <ResultView result={state.result} onFocus={onFocus} />}
    </div>
  );
}
