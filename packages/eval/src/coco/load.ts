/** Ground truth and results loading with pycocotools' COCO.loadRes and COCOeval._prepare rules. */
import { type BboxXywh, rleArea, rleToBbox } from "@padt/mask";
import { segmentationToRle } from "./segmentation.js";
import type { CocoDataset, CocoDetection, CocoSegmentation, EvalObject, IouType } from "./types.js";

type ImageSizes = Map<number, { height: number; width: number }>;

function imageSizes(dataset: CocoDataset): ImageSizes {
  return new Map(dataset.images.map((i) => [i.id, { height: i.height, width: i.width }]));
}

function toRle(
  segmentation: CocoSegmentation | undefined,
  sizes: ImageSizes,
  imageId: number,
  what: string,
) {
  if (segmentation === undefined) return undefined;
  const size = sizes.get(imageId);
  if (!size) throw new Error(`${what} is on image ${imageId}, absent from the annotations`);
  return segmentationToRle(segmentation, size.height, size.width, what);
}

function requireRle(o: EvalObject, iouType: IouType, what: string): void {
  if (iouType === "segm" && !o.rle)
    throw new Error(`${what} has no segmentation (segm evaluation)`);
  if (iouType === "bbox" && !o.bbox) throw new Error(`${what} has no bbox (bbox evaluation)`);
}

export function loadGroundTruth(dataset: CocoDataset, iouType: IouType): EvalObject[] {
  const sizes = imageSizes(dataset);
  return dataset.annotations.map((a) => {
    const what = `annotation ${a.id}`;
    const o: EvalObject = {
      id: a.id,
      imageId: a.image_id,
      categoryId: a.category_id,
      area: a.area,
      // COCOeval: ignore = iscrowd, whatever an "ignore" field says.
      iscrowd: Boolean(a.iscrowd),
      score: 0,
      bbox: a.bbox,
      rle: iouType === "segm" ? toRle(a.segmentation, sizes, a.image_id, what) : undefined,
    };
    requireRle(o, iouType, what);
    return o;
  });
}

/**
 * COCO.loadRes: ids are 1-based positions, iscrowd 0. The first detection decides the branch:
 * with a non-empty bbox the area is the box area (even for segm evaluation) and a detection
 * without segmentation gets its box as a polygon; otherwise the area is the mask area and a
 * missing box comes from the mask.
 */
export function loadDetections(
  dataset: CocoDataset,
  detections: readonly CocoDetection[],
  iouType: IouType,
): EvalObject[] {
  const sizes = imageSizes(dataset);
  const first = detections[0];
  const boxBranch = first?.bbox !== undefined && first.bbox.length > 0;
  return detections.map((d, index) => {
    const what = `detection ${index}`;
    if (!sizes.has(d.image_id)) {
      throw new Error(`${what} is on image ${d.image_id}, absent from the annotations`);
    }
    const segm = iouType === "segm" ? d.segmentation : undefined;
    let rle = toRle(segm, sizes, d.image_id, what);
    let bbox: BboxXywh | undefined;
    let area: number;
    if (boxBranch) {
      if (d.bbox?.length !== 4) throw new Error(`${what} has no bbox`);
      bbox = d.bbox;
      area = bbox[2] * bbox[3];
      if (iouType === "segm" && !rle) {
        const [x, y, w, h] = bbox;
        const polygon = [[x, y, x, y + h, x + w, y + h, x + w, y]];
        rle = toRle(polygon, sizes, d.image_id, what);
      }
    } else {
      rle ??= toRle(d.segmentation, sizes, d.image_id, what);
      if (!rle) throw new Error(`${what} has neither bbox nor segmentation`);
      area = rleArea(rle);
      bbox = d.bbox?.length === 4 ? d.bbox : rleToBbox(rle);
    }
    const o: EvalObject = {
      id: index + 1,
      imageId: d.image_id,
      categoryId: d.category_id,
      area,
      iscrowd: false,
      score: d.score,
      bbox,
      rle: iouType === "segm" ? rle : undefined,
    };
    requireRle(o, iouType, what);
    return o;
  });
}
