/** COCO files as read by pycocotools (only what detection evaluation needs). */
import type { BboxXywh, CocoRle, Rle } from "@padt/mask";

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** RLE only: polygon segmentations are rejected with a clear message (convert them first). */
export type CocoSegmentation = CocoRle | number[][];

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: BboxXywh;
  area: number;
  iscrowd?: number | boolean;
  segmentation?: CocoSegmentation;
}

export interface CocoDataset {
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
}

/** One line of a COCO results file. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: BboxXywh | [];
  segmentation?: CocoSegmentation;
}

export type IouType = "bbox" | "segm";

/** A ground truth or detection as the evaluator sees it after loading. */
export interface EvalObject {
  id: number;
  imageId: number;
  categoryId: number;
  area: number;
  iscrowd: boolean;
  score: number;
  bbox: BboxXywh | undefined;
  rle: Rle | undefined;
}
