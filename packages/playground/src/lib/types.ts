import type { RleMask } from "@padt/mask";

export interface TaskInfo {
  name: string;
  description: string;
  inputType: string | null;
  resultType: string | null;
  inputField: string | null;
  /** Whether the loaded model was trained for it (the bundle's capabilities). */
  supported: boolean;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageInfo {
  id: string;
  width: number;
  height: number;
  gridWidth: number;
  gridHeight: number;
  url: string;
}

export interface VisualRef {
  id: string;
  index: number;
  label: string | null;
  patches: number[];
  decoded: boolean;
  score: number | null;
  box: Box | null;
  mask: RleMask | null;
  image: { id: string };
}

/** A reference the user drew on the image, attached to the next message. */
export type Attachment = { kind: "patches"; patches: number[] } | { kind: "box"; box: Box };

/** Token counts and timings of one answer, as the API reports them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  prefillMs: number;
  decodeMs: number;
  decoderMs: number;
}

export interface MessageError {
  code: string;
  message: string;
}

// Results as the fragments in queries.ts read them; unknown plugin results keep only __typename.
export type TaskResult =
  | { __typename: "TextResult"; text: string }
  | {
      __typename: "RecResult" | "ResResult";
      expression: string;
      ref: VisualRef | null;
      issues: string[];
    }
  | {
      __typename: "OvdResult";
      detections: { label: string; score: number; ref: VisualRef }[];
      unknownLabels: string[];
      issues: string[];
    }
  | {
      __typename: "RicResult";
      caption: string;
      phrases: { text: string; start: number; end: number; refs: VisualRef[] }[];
      issues: string[];
    }
  | { __typename: string };
