import { type PointerEvent, useRef, useState } from "react";
import { patchAt, patchRect } from "../lib/grid.js";
import type { Attachment, Box, ImageInfo, VisualRef } from "../lib/types.js";
import { MaskLayer } from "./MaskLayer.js";

interface Props {
  image: ImageInfo;
  src: string;
  /** Every decoded ref of the answer in view: boxes with labels and scores. */
  refs: VisualRef[];
  /** The hovered or selected ref: its patches, box and mask. */
  focus: VisualRef | null;
  onFocus(ref: VisualRef | null): void;
  attachments: Attachment[];
  onAttach(attachment: Attachment): void;
}

/** The image with SVG overlays in original pixel coordinates (viewBox = image size). */
export function ImageView({ image, src, refs, focus, onFocus, attachments, onAttach }: Props) {
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const toImage = (e: PointerEvent) => {
    const r = svg.current!.getBoundingClientRect();
    return {
      x: Math.min(image.width, Math.max(0, ((e.clientX - r.left) / r.width) * image.width)),
      y: Math.min(image.height, Math.max(0, ((e.clientY - r.top) / r.height) * image.height)),
    };
  };
  const finish = () => {
    if (!drag) return;
    const box: Box = {
      x: Math.min(drag.x0, drag.x1),
      y: Math.min(drag.y0, drag.y1),
      width: Math.abs(drag.x1 - drag.x0),
      height: Math.abs(drag.y1 - drag.y0),
    };
    setDrag(null);
    const minSide = image.width / image.gridWidth / 2;
    if (box.width < minSide && box.height < minSide)
      onAttach({ kind: "patches", patches: [patchAt(image, drag.x0, drag.y0)] });
    else onAttach({ kind: "box", box });
  };
  const stroke = Math.max(image.width, image.height) / 250;
  return (
    <div className="image-view" data-testid="image-view">
      <img src={src} alt="uploaded" data-testid="image" draggable={false} />
      {focus?.mask && <MaskLayer mask={focus.mask} />}
      <svg
        ref={svg}
        viewBox={`0 0 ${image.width} ${image.height}`}
        preserveAspectRatio="none"
        onPointerDown={(e) => {
          const p = toImage(e);
          e.currentTarget.setPointerCapture(e.pointerId);
          setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
        }}
        onPointerMove={(e) => {
          if (!drag) return;
          const p = toImage(e);
          setDrag({ ...drag, x1: p.x, y1: p.y });
        }}
        onPointerUp={finish}
        role="img"
        aria-label="visual references"
      >
        {focus?.patches.map((p) => {
          const r = patchRect(image, p);
          return (
            <rect
              key={p}
              className="patch"
              data-testid="ref-patch"
              {...r}
              strokeWidth={stroke / 2}
            />
          );
        })}
        {refs.map(
          (ref) =>
            ref.box && (
              <g
                key={ref.id}
                className={ref.id === focus?.id ? "ref focus" : "ref"}
                onPointerEnter={() => onFocus(ref)}
                onPointerLeave={() => onFocus(null)}
              >
                <rect
                  className="box"
                  data-testid="ref-box"
                  data-index={ref.index}
                  x={ref.box.x}
                  y={ref.box.y}
                  width={ref.box.width}
                  height={ref.box.height}
                  strokeWidth={stroke}
                />
                <text x={ref.box.x + stroke} y={ref.box.y + stroke * 6} fontSize={stroke * 5}>
                  {ref.label ?? `#${ref.index}`} {ref.score != null ? ref.score.toFixed(2) : ""}
                </text>
              </g>
            ),
        )}
        {attachments.map((a) => (
          <rect
            key={JSON.stringify(a)}
            className="attached"
            {...(a.kind === "box" ? a.box : patchRect(image, a.patches[0]!))}
            strokeWidth={stroke}
          />
        ))}
        {drag && (
          <rect
            className="drag"
            x={Math.min(drag.x0, drag.x1)}
            y={Math.min(drag.y0, drag.y1)}
            width={Math.abs(drag.x1 - drag.x0)}
            height={Math.abs(drag.y1 - drag.y0)}
            strokeWidth={stroke}
          />
        )}
      </svg>
    </div>
  );
}
