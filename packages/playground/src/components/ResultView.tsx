import type { TaskResult, VisualRef } from "../lib/types.js";

interface Props {
  result: TaskResult;
  onFocus(ref: VisualRef | null): void;
}

/** The typed result under an answer: OVD detections, RIC phrases linked to their regions, issues. */
export function ResultView({ result, onFocus }: Props) {
  const issues = "issues" in result && result.issues.length > 0 && (
    <p className="issues">Parser notes: {result.issues.join("; ")}</p>
  );
  if (result.__typename === "OvdResult" && "detections" in result)
    return (
      <div className="result">
        <table data-testid="ovd-detections">
          <tbody>
            {result.detections.map((d) => (
              <tr
                key={d.ref.id}
                onPointerEnter={() => onFocus(d.ref)}
                onPointerLeave={() => onFocus(null)}
              >
                <td>{d.label}</td>
                <td>{d.score.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {result.unknownLabels.length > 0 && (
          <p>
            Labels not asked for: {result.unknownLabels.map((l) => JSON.stringify(l)).join(", ")}
          </p>
        )}
        {issues}
      </div>
    );
  if (result.__typename === "RicResult" && "phrases" in result) {
    const pieces: React.ReactNode[] = [];
    let at = 0;
    for (const p of result.phrases) {
      pieces.push(result.caption.slice(at, p.start));
      pieces.push(
        <mark
          key={p.start}
          className="phrase"
          onPointerEnter={() => onFocus(p.refs[0] ?? null)}
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
  return issues ? <div className="result">{issues}</div> : null;
}
