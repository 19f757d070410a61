import { cssColour } from "../lib/palette.js";
import type { TaskResult, VisualRef } from "../lib/types.js";

interface Row {
  ref: VisualRef;
  label: string;
  score: number | null;
}

/** The objects an answer shows on the image: what the parser kept, else every decoded ref. */
export function shownRefs(result: TaskResult | null, refs: VisualRef[]): VisualRef[] {
  if (result && "detections" in result) return result.detections.map((d) => d.ref);
  if (result && "ref" in result) return result.ref ? [result.ref] : [];
  return refs.filter((r) => r.decoded);
}

function rows(result: TaskResult | null, refs: VisualRef[]): Row[] {
  if (result && "detections" in result)
    return result.detections.map((d) => ({ ref: d.ref, label: d.label, score: d.score }));
  return shownRefs(result, refs).map((ref) => ({
    ref,
    label: ref.label || `object ${ref.index + 1}`,
    score: ref.score,
  }));
}

const fmt = (v: number) => String(Math.round(v));

/** Per answer: each object with its colour, label, score and box in image pixels. */
export function ResultsPanel(props: {
  result: TaskResult | null;
  refs: VisualRef[];
  focus: VisualRef | null;
  onFocus(ref: VisualRef | null): void;
}) {
  const list = rows(props.result, props.refs);
  if (list.length === 0) return null;
  return (
    <table className="results" data-testid="results">
      <caption>Objects</caption>
      <thead>
        <tr>
          <th scope="col">
            <span className="sr-only">Colour</span>
          </th>
          <th scope="col">Label</th>
          <th scope="col">Score</th>
          <th scope="col">Box (x, y, w, h)</th>
        </tr>
      </thead>
      <tbody>
        {list.map((row) => (
          <tr
            key={row.ref.id}
            data-testid="result-row"
            data-ref-id={row.ref.id}
            className={props.focus?.id === row.ref.id ? "focus" : ""}
            onPointerEnter={() => props.onFocus(row.ref)}
            onPointerLeave={() => props.onFocus(null)}
          >
            <td>
              <span className="swatch" style={{ background: cssColour(row.ref.index) }} />
            </td>
            <td>{row.label}</td>
            <td>{row.score != null ? row.score.toFixed(2) : "–"}</td>
            <td data-testid="result-box">
              {row.ref.box
                ? [row.ref.box.x, row.ref.box.y, row.ref.box.width, row.ref.box.height]
                    .map(fmt)
                    .join(", ")
                : "–"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
