import { type PointerEvent, useEffect, useRef, useState } from "react";
import { annotatedPng } from "../lib/annotate.js";
import { patchAt, patchRect } from "../lib/grid.js";
import { colourOf, cssColour, uniquePatches } from "../lib/palette.js";
import type { Attachment, Box, ImageInfo, VisualRef } from "../lib/types.js";
import { useFit } from "../lib/useFit.js";
import { MaskLayer } from "./MaskLayer.js";

export interface Layers {
  masks: boolean;
  boxes: boolean;
  patches: boolean;
  opacity: number;
  /** Objects scored below this are not drawn (objects without a score always are). */
  minScore: number;
}

export const defaultLayers: Layers = {
  masks: true,
  boxes: true,
  patches: false,
  opacity: 0.45,
  minScore: 0,
};

interface Props {
  image: ImageInfo;
  src: string;
  /** The decoded refs of the answer in view: boxes, labels, masks. */
  refs: VisualRef[];
  /** The hovered, focused or selected ref: its patches, box and mask stand out. */
  focus: VisualRef | null;
  onFocus(ref: VisualRef | null): void;
  attachments: Attachment[];
  onAttach(attachment: Attachment): void;
  layers: Layers;
}

const ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];
/** Screen pixels: outline width and label height whatever the zoom. */
const STROKE_PX = 2;
const LABEL_PX = 13;

/**
 * The image fitted to its pane (zoom in to scroll/pan), with SVG overlays in original pixel
 * coordinates (viewBox = image size), so every overlay scales with the image.
 */
export function ImageView(props: Props) {
  const { image, src, focus, onFocus, attachments, onAttach, layers } = props;
  const refs = props.refs.filter((r) => r.score == null || r.score >= layers.minScore);
  const pane = useRef<HTMLDivElement>(null);
  const picture = useRef<HTMLImageElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [zoom, setZoom] = useState(1);
  const fit = useFit(pane, image.width, image.height);
  const scale = fit * zoom;
  const shownW = Math.floor(image.width * scale);
  const shownH = Math.floor(image.height * scale);
  const px = scale > 0 ? 1 / scale : 1;
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new image starts fitted.
  useEffect(() => setZoom(1), [image.id]);
  // The focused ref's box is scrolled into the pane when zoomed in.
  useEffect(() => {
    const el = pane.current;
    const box = focus?.box;
    if (!el || !box || zoom === 1) return;
    const left = box.x * scale;
    const top = box.y * scale;
    const right = left + box.width * scale;
    const bottom = top + box.height * scale;
    if (left < el.scrollLeft || right > el.scrollLeft + el.clientWidth)
      el.scrollLeft = Math.max(0, (left + right) / 2 - el.clientWidth / 2);
    if (top < el.scrollTop || bottom > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, (top + bottom) / 2 - el.clientHeight / 2);
  }, [focus, scale, zoom]);

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
  const step = (dir: 1 | -1) => {
    const i = ZOOMS.findIndex((z) => z >= zoom);
    setZoom(ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, i + dir))]!);
  };
  const stroke = STROKE_PX * px;
  const font = LABEL_PX * px;
  const masked = layers.masks ? refs : focus ? [focus] : [];
  const drawn = layers.boxes ? refs : [];
  return (
    <div className="image-view" data-testid="image-view" data-image-id={image.id}>
      <div className="zoom-bar">
        <button type="button" aria-label="Zoom out" onClick={() => step(-1)} disabled={zoom <= 1}>
          −
        </button>
        <button type="button" title="Fit the image to the pane" onClick={() => setZoom(1)}>
          Fit · {Math.round(zoom * 100)}%
        </button>
        <button
          type="button"
          aria-label="Zoom in"
          onClick={() => step(1)}
          disabled={zoom >= ZOOMS.at(-1)!}
        >
          +
        </button>
        <button
          type="button"
          data-testid="download-annotated"
          onClick={() => {
            if (!picture.current) return;
            void annotatedPng(picture.current, refs, layers.opacity).then((blob) => {
              const a = document.createElement("a");
              a.href = URL.createObjectURL(blob);
              a.download = `padt-${image.id}.png`;
              a.click();
              setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
            });
          }}
        >
          Download PNG
        </button>
        <span className="dims">
          {image.width}×{image.height}
        </span>
      </div>
      <div
        className="image-scroll"
        ref={pane}
        data-testid="image-pane-scroll"
        onWheel={(e) => {
          if (!e.ctrlKey) return;
          e.preventDefault();
          step(e.deltaY < 0 ? 1 : -1);
        }}
      >
        <div className="stage" style={{ width: shownW, height: shownH }}>
          <img ref={picture} src={src} alt="Shown upload" data-testid="image" draggable={false} />
          {masked.map(
            (ref) =>
              ref.mask && (
                <MaskLayer
                  key={ref.id}
                  mask={ref.mask}
                  rgb={colourOf(ref.index)}
                  refIndex={ref.index}
                  opacity={
                    ref.id === focus?.id ? Math.min(1, layers.opacity + 0.2) : layers.opacity
                  }
                />
              ),
          )}
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
            aria-label={`Image ${image.width} by ${image.height} with ${refs.length} visual references; click or drag to mark a region`}
          >
            {(layers.patches ? refs : focus ? [focus] : []).flatMap((ref) =>
              uniquePatches(ref.patches).map((p) => (
                <rect
                  key={`${ref.id}:${p}`}
                  className="patch"
                  data-testid="ref-patch"
                  {...patchRect(image, p)}
                  fill={cssColour(ref.index, 0.22)}
                  stroke={cssColour(ref.index, 0.9)}
                  strokeWidth={stroke / 2}
                />
              )),
            )}
            {drawn.map(
              (ref) =>
                ref.box && (
                  <RefBox
                    key={ref.id}
                    ref_={ref}
                    box={ref.box}
                    focused={ref.id === focus?.id}
                    stroke={stroke}
                    font={font}
                    image={image}
                    onFocus={onFocus}
                  />
                ),
            )}
            {attachments.map((a) => (
              <rect
                key={JSON.stringify(a)}
                className="attached"
                data-testid="attached-region"
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
      </div>
    </div>
  );
}

/** A box outline with a readable label kept inside the image. */
function RefBox(props: {
  ref_: VisualRef;
  box: Box;
  focused: boolean;
  stroke: number;
  font: number;
  image: ImageInfo;
  onFocus(ref: VisualRef | null): void;
}) {
  const { ref_: ref, box, stroke, image } = props;
  const text = `${ref.label || `object ${ref.index + 1}`}${ref.score != null ? ` ${ref.score.toFixed(2)}` : ""}`;
  // Smaller type for a label that would be wider than the image, never below 9 screen px.
  const font = Math.max(
    Math.min(props.font, image.width / ((text.length + 1) * 0.6)),
    (props.font * 9) / LABEL_PX,
  );
  const labelW = text.length * font * 0.6 + font * 0.6;
  const labelH = font * 1.3;
  const x = Math.max(0, Math.min(box.x, image.width - labelW));
  // Above the box when there is room, else just inside its top edge.
  const y = box.y >= labelH ? box.y - labelH : Math.min(box.y, image.height - labelH);
  return (
    <g
      className={props.focused ? "ref focus" : "ref"}
      onPointerEnter={() => props.onFocus(ref)}
      onPointerLeave={() => props.onFocus(null)}
    >
      <rect
        className="box"
        data-testid="ref-box"
        data-index={ref.index}
        x={box.x}
        y={box.y}
        width={box.width}
        height={box.height}
        stroke={cssColour(ref.index)}
        strokeWidth={props.focused ? stroke * 1.75 : stroke}
      />
      <rect
        className="label-bg"
        x={x}
        y={y}
        width={labelW}
        height={labelH}
        fill={cssColour(ref.index, 0.85)}
      />
      <text x={x + font * 0.3} y={y + font} fontSize={font}>
        {text}
      </text>
    </g>
  );
}
