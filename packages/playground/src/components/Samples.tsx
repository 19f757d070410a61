import type { Preset } from "./Composer.js";

/** Shapes scenes from the test fixtures (copied into public/samples), each with a prompt for its task. */
const SAMPLES: { file: string; title: string; preset: Preset }[] = [
  {
    file: "shapes_rec_3_0.png",
    title: "Find one object (REC)",
    preset: { task: "rec", form: { expression: "the large yellow star" } },
  },
  {
    file: "shapes_rec_3_0.png",
    title: "Segment it (RES)",
    preset: { task: "res", form: { expression: "the large yellow star" } },
  },
  {
    file: "shapes_ovd_6_0.png",
    title: "Detect categories (OVD)",
    preset: { task: "ovd", form: { categories: "triangle" } },
  },
  {
    file: "shapes_ric_10_0.png",
    title: "Describe with regions (RIC)",
    preset: { task: "ric", form: { prompt: "" } },
  },
];

export function Samples(props: {
  tasks: string[];
  onPick(file: File, preset: Preset): void;
  onError(message: string): void;
}) {
  const usable = SAMPLES.filter((s) => props.tasks.includes(s.preset.task));
  return (
    <div className="samples">
      <p className="hint">
        Drop, paste or choose an image, or start from a sample. Click or drag on the image to mark a
        region for your next message.
      </p>
      <ul>
        {usable.map((s) => (
          <li key={s.title}>
            <button
              type="button"
              className="sample-button"
              data-testid="sample"
              onClick={async () => {
                const res = await fetch(`samples/${s.file}`);
                if (!res.ok) return props.onError(`Sample ${s.file}: HTTP ${res.status}`);
                const blob = await res.blob();
                props.onPick(new File([blob], s.file, { type: "image/png" }), s.preset);
              }}
            >
              <img src={`samples/${s.file}`} alt="" />
              <span>{s.title}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
