import type { TurnDescription } from "../lib/history.js";
import type { ImageInfo } from "../lib/types.js";

/** The user's side of a turn: task, its inputs, marked regions, and the image asked about. */
export function TurnHeader(props: {
  description: TurnDescription;
  image: (ImageInfo & { src: string }) | undefined;
  onShowImage(): void;
}) {
  const { task, summary, regions } = props.description;
  return (
    <header className="turn-header" data-testid="turn-header">
      {props.image && (
        <button type="button" className="thumb" onClick={props.onShowImage}>
          <img
            src={props.image.src}
            alt={`Back to the ${props.image.width}×${props.image.height} upload`}
          />
        </button>
      )}
      <p className="user-text">
        {task && <span className="task-badge">{task.toUpperCase()}</span>} {summary}
        {regions > 0 && (
          <span className="regions">
            {" "}
            · {regions} marked region{regions > 1 ? "s" : ""}
          </span>
        )}
      </p>
    </header>
  );
}
