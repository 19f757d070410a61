import { cssColour, uniquePatches } from "../lib/palette.js";
import type { VisualRef } from "../lib/types.js";

/** A visual reference inline in the answer: pending until decoded, then label and score. */
export function Chip(props: {
  ref_: VisualRef;
  focused: boolean;
  onFocus(ref: VisualRef | null): void;
  onSelect(ref: VisualRef): void;
}) {
  const { ref_: ref } = props;
  const name = ref.label || `object ${ref.index + 1}`;
  const cells = uniquePatches(ref.patches).length;
  return (
    <button
      type="button"
      className={`chip${ref.decoded ? " decoded" : " pending"}${props.focused ? " focus" : ""}`}
      data-testid="ref-chip"
      data-decoded={ref.decoded}
      data-ref-id={ref.id}
      data-image-id={ref.image.id}
      style={{ borderColor: cssColour(ref.index) }}
      onPointerEnter={() => props.onFocus(ref)}
      onPointerLeave={() => props.onFocus(null)}
      onFocus={() => props.onFocus(ref)}
      onBlur={() => props.onFocus(null)}
      onClick={() => props.onSelect(ref)}
    >
      <span className="swatch" style={{ background: cssColour(ref.index) }} aria-hidden="true" />
      {ref.decoded ? name : `${name}… ${cells} cell${cells === 1 ? "" : "s"}`}
      {ref.score != null && <small>{ref.score.toFixed(2)}</small>}
    </button>
  );
}
