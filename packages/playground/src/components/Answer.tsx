import { useEffect, useState } from "react";
import type { PlaygroundClient } from "../lib/client.js";
import { describeError } from "../lib/errors.js";
import { CANCEL } from "../lib/queries.js";
import { isFinished, type StreamState } from "../lib/stream.js";
import type { TaskInfo, VisualRef } from "../lib/types.js";
import { useMessageStream } from "../lib/useMessageStream.js";
import { Chip } from "./Chip.js";
import { ResultView } from "./ResultView.js";

interface Props {
  client: PlaygroundClient;
  messageId: string;
  tasks: TaskInfo[];
  initial?: StreamState;
  focus: VisualRef | null;
  onFocus(ref: VisualRef | null): void;
  onSelect(ref: VisualRef): void;
  /** The answer's refs as they change, for the image overlay. */
  onRefs(refs: VisualRef[]): void;
}

/** One assistant answer: streamed text with chips, status, cancel, the typed result. */
export function Answer({
  client,
  messageId,
  tasks,
  initial,
  focus,
  onFocus,
  onSelect,
  onRefs,
}: Props) {
  const { state, streamError, reconnects } = useMessageStream(client, messageId, tasks, initial);
  const [cancelError, setCancelError] = useState<string | null>(null);
  useEffect(() => onRefs(Object.values(state.refs)), [state.refs, onRefs]);
  const cancel = async () => {
    const r = await client.urql.mutation(CANCEL, { m: messageId }).toPromise();
    setCancelError(r.error ? describeError(r.error) : null);
  };
  return (
    <div
      className="answer"
      data-testid="answer"
      data-message-id={messageId}
      data-status={state.status}
      data-last-seq={state.lastSeq}
    >
      <p className="answer-text" data-testid="answer-text">
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
        {!isFinished(state.status) && <span className="cursor">▍</span>}
      </p>
      <div className="answer-meta">
        <span data-testid="answer-status">{state.status.toLowerCase()}</span>
        {reconnects > 0 && <span> · resumed {reconnects}×</span>}
        {!isFinished(state.status) && (
          <>
            <button type="button" data-testid="cancel" onClick={cancel}>
              Cancel
            </button>
            <button
              type="button"
              title="Close the WebSocket to try resuming"
              onClick={client.dropSocket}
            >
              Drop connection
            </button>
          </>
        )}
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
      {state.result && <ResultView result={state.result} onFocus={onFocus} />}
    </div>
  );
}
