import type { Layers } from "./ImageView.js";

/** Which overlays are drawn, and how opaque the masks are. */
export function LayerControls({ layers, onChange }: { layers: Layers; onChange(l: Layers): void }) {
  const toggle = (name: "masks" | "boxes" | "patches", label: string) => (
    <label>
      <input
        type="checkbox"
        data-testid={`layer-${name}`}
        checked={layers[name]}
        onChange={(e) => onChange({ ...layers, [name]: e.target.checked })}
      />{" "}
      {label}
    </label>
  );
  return (
    <details className="layers" open={window.matchMedia("(min-width: 821px)").matches}>
      <summary>Overlays</summary>
      <div className="layer-row">
        {toggle("masks", "Masks")}
        {toggle("boxes", "Boxes")}
        {toggle("patches", "Patches")}
        <label>
          Opacity{" "}
          <input
            type="range"
            data-testid="mask-opacity"
            min={0.1}
            max={1}
            step={0.05}
            value={layers.opacity}
            onChange={(e) => onChange({ ...layers, opacity: Number(e.target.value) })}
          />
        </label>
        <label>
          Min score{" "}
          <input
            type="range"
            data-testid="min-score"
            min={0}
            max={1}
            step={0.05}
            value={layers.minScore}
            onChange={(e) => onChange({ ...layers, minScore: Number(e.target.value) })}
          />{" "}
          <output>{layers.minScore.toFixed(2)}</output>
        </label>
      </div>
    </details>
  );
}
