import type { TaskResult, VisualRef } from "../lib/types.js";

interface Props {
  result: TaskResult;
  onFocus(ref: VisualRef | null): void;
}

/** The typed result under an answer, beside the objects table: RIC phrases linked to regions, parser notes. */
export function ResultView({ result, onFocus }: Props) {
  const issues = "issues" in result && result.issues.length > 0 && (
    <p className="issues">Parser notes: {result.issues.join("; ")}</p>
  );
  const unknown = "unknownLabels" in result && result.unknownLabels.length > 0 && (
    <p>Labels not asked for: {result.unknownLabels.map((l) => JSON.stringify(l)).join(", ")}</p>
  );
  if (result.__typename === "RicResult" && "phrases" in result) {
    const pieces: React.ReactNode[] = [];
    let at = 0;
    for (const p of result.phrases) {
      pieces.push(result.caption.slice(at, p.start));
      const ref = p.refs[0] ?? null;
      pieces.push(
        <mark
          key={p.start}
          className="phrase"
          onPointerEnter={() => onFocus(ref)}
          onPointerLeave={() => onFocus(null)}
        >
          {result.caption.slice(p.start, p.end)}
        </mark>,
      );
      at = p.end;
    }
    pieces.push(result.caption.slice(at));
    return (
      <div className="result" data-testid="ric-caption">
        <p>{pieces}</p>
        {issues}
      </div>
    );
  }
  if (!issues && !unknown) return null;
  return (
    <div className="result">
      {unknown}
      {issues}
    </div>
  );
}
