import type { VisualRef } from "../lib/types.js";

/** A visual reference inline in the answer: pending until decoded, then label and score. */
export function Chip(props: {
  ref_: VisualRef;
  focused: boolean;
  onFocus(ref: VisualRef | null): void;
  onSelect(ref: VisualRef): void;
}) {
  const { ref_: ref } = props;
  return (
    <button
      type="button"
      className={`chip${ref.decoded ? " decoded" : " pending"}${props.focused ? " focus" : ""}`}
      data-testid="ref-chip"
      data-decoded={ref.decoded}
      onPointerEnter={() => props.onFocus(ref)}
      onPointerLeave={() => props.onFocus(null)}
      onClick={() => props.onSelect(ref)}
    >
      {ref.decoded ? (ref.label ?? `object ${ref.index}`) : `… ${ref.patches.length} patches`}
      {ref.score != null && <small>{ref.score.toFixed(2)}</small>}
    </button>
  );
}
