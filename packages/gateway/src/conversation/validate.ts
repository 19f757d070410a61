import { resolveDecoding } from "@padt/engine";
import { ErrorCode, PadtError } from "@padt/protocol";
import type { TaskPlugin, TaskRegistry } from "@padt/task-api";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { DbError } from "../db/errors.js";
import { type ImageMeta, imagesByIds } from "../db/repos/images.js";
import { getMessage } from "../db/repos/messages.js";
import { type PartInput, partsByMessageIds } from "../db/repos/parts.js";
import type { StoredGenerationOptions } from "../db/schema.js";
import { gatewayError } from "../errors.js";
import type { ImageService } from "../images.js";
import { conversationImages, loadHistory } from "./history.js";
import { boxToPatches, checkPatches, parseVisualRefId } from "./refs.js";

export interface BoxInput {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface MessagePartInput {
  text?: string | null;
  imageId?: string | null;
  visualRef?: {
    imageId?: string | null;
    patches?: number[] | null;
    box?: BoxInput | null;
    refId?: string | null;
  } | null;
}
export interface SendMessageInput {
  sessionId: string;
  parts: MessagePartInput[];
  task?: Record<string, unknown> | null;
  options?: {
    maxNewTokens?: number | null;
    doSample?: boolean | null;
    temperature?: number | null;
    topK?: number | null;
    topP?: number | null;
    repetitionPenalty?: number | null;
    seed?: number | null;
  } | null;
  idempotencyKey?: string | null;
}

export interface ValidatedMessage {
  parts: PartInput[];
  task: { plugin: TaskPlugin; input: unknown } | null;
  options: StoredGenerationOptions | null;
  idempotencyKey: string | null;
}

export interface ValidateDeps {
  db: Database;
  ownerId: string;
  tasks: TaskRegistry;
  images: ImageService;
  limits: Pick<Limits, "textLength" | "partsPerMessage" | "maxNewTokens">;
}

const set = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

/**
 * Refuses a NUL character (U+0000) anywhere in `value` (strings, arrays, objects): neither
 * PostgreSQL nor PGlite stores one in text or jsonb, so without this check the write fails
 * with an internal error. `field` names the input in the message, e.g. "parts[0].text".
 */
export function checkStorable(value: unknown, field: string): void {
  if (typeof value === "string") {
    if (value.includes("\u0000"))
      throw gatewayError(
        ErrorCode.TEXT_INVALID,
        `${field} contains a NUL character (U+0000), which cannot be stored`,
        { field },
      );
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkStorable(v, `${field}[${i}]`);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) checkStorable(v, `${field}.${k}`);
  }
}

/** The task named by the one TaskInput field that is set; TASK_INPUT_INVALID otherwise. */
export function parseTask(
  tasks: TaskRegistry,
  task: Record<string, unknown> | null | undefined,
): { plugin: TaskPlugin; input: unknown } | null {
  if (!set(task)) return null;
  const fields = Object.entries(task).filter(([, v]) => set(v));
  if (fields.length !== 1) {
    throw new PadtError(
      ErrorCode.TASK_INPUT_INVALID,
      `TaskInput needs exactly one field set, got ${fields.length}`,
    );
  }
  const [field, raw] = fields[0]!;
  const plugin = tasks.list().find((p) => p.graphql.inputField === field);
  if (!plugin) throw new PadtError(ErrorCode.TASK_UNKNOWN, `Unknown task "${field}"`);
  return tasks.parseInput(plugin.name, raw);
}

export function parseOptions(
  options: SendMessageInput["options"],
  maxNewTokens: number,
): StoredGenerationOptions | null {
  if (!set(options)) return null;
  const out: StoredGenerationOptions = {};
  const bad = (m: string) => gatewayError(ErrorCode.OPTIONS_INVALID, m);
  if (set(options.maxNewTokens)) {
    if (options.maxNewTokens < 1 || options.maxNewTokens > maxNewTokens)
      throw bad(`maxNewTokens must be 1 to ${maxNewTokens}`);
    out.maxNewTokens = options.maxNewTokens;
  }
  if (set(options.temperature)) {
    if (!(options.temperature >= 0 && options.temperature <= 2))
      throw bad("temperature must be 0 to 2");
    out.temperature = options.temperature;
  }
  if (set(options.topP)) {
    if (!(options.topP > 0 && options.topP <= 1)) throw bad("topP must be in (0, 1]");
    out.topP = options.topP;
  }
  if (set(options.seed)) {
    if (options.seed < 0) throw bad("seed must be non-negative");
    out.seed = options.seed;
  }
  if (set(options.doSample)) out.doSample = options.doSample;
  if (set(options.topK)) out.topK = options.topK;
  if (set(options.repetitionPenalty)) out.repetitionPenalty = options.repetitionPenalty;
  try {
    resolveDecoding(out); // the engine's own rules: refused here, before anything is written
  } catch (error) {
    throw bad((error as Error).message);
  }
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Everything sendMessage checks before it writes: part shapes and limits, image ids (the
 * owner's, and for visual references, in the conversation), patches inside the image's
 * grid (boxes become the patches they cover), refIds naming an earlier reference of the same
 * session, the task and its input, the options and the idempotency key.
 */
export async function validateMessage(
  deps: ValidateDeps,
  input: SendMessageInput,
): Promise<ValidatedMessage> {
  const { limits } = deps;
  if (input.idempotencyKey !== undefined && input.idempotencyKey !== null) {
    if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 200)
      throw gatewayError(
        ErrorCode.IDEMPOTENCY_KEY_INVALID,
        "idempotencyKey must be 1 to 200 characters",
      );
    checkStorable(input.idempotencyKey, "idempotencyKey");
  }
  if (input.parts.length === 0)
    throw gatewayError(ErrorCode.PART_INVALID, "a message needs at least one part");
  if (input.parts.length > limits.partsPerMessage)
    throw gatewayError(
      ErrorCode.TOO_MANY_PARTS,
      `a message has at most ${limits.partsPerMessage} parts`,
      { max: limits.partsPerMessage },
    );
  let textLength = 0;
  input.parts.forEach((part, i) => {
    const count = [part.text, part.imageId, part.visualRef].filter(set).length;
    if (count !== 1)
      throw gatewayError(
        ErrorCode.PART_INVALID,
        `part ${i} must set exactly one of text, imageId, visualRef`,
      );
    if (set(part.text)) {
      checkStorable(part.text, `parts[${i}].text`);
      textLength += part.text.length;
    }
  });
  if (textLength > limits.textLength)
    throw gatewayError(
      ErrorCode.TEXT_TOO_LONG,
      `the message's text is ${textLength} characters; the limit is ${limits.textLength}`,
      { max: limits.textLength },
    );
  const task = parseTask(deps.tasks, input.task);
  if (task) checkStorable(task.input, `task.${task.plugin.graphql.inputField}`);
  if (!task && input.parts.every((p) => set(p.text) && p.text.trim() === ""))
    throw new PadtError(
      ErrorCode.PROMPT_EMPTY,
      "the message has no text, no image, no visual reference and no task",
    );
  const options = parseOptions(input.options, limits.maxNewTokens);

  // Images named anywhere in the message, in one query.
  const imageIds = new Set<string>();
  for (const part of input.parts) {
    if (set(part.imageId)) imageIds.add(part.imageId);
    if (set(part.visualRef?.imageId)) imageIds.add(part.visualRef.imageId);
  }
  const images = new Map<string, ImageMeta>(
    (await imagesByIds(deps.db, deps.ownerId, [...imageIds])).map((img) => [img.id, img]),
  );
  for (const id of imageIds) {
    if (!images.has(id)) throw new DbError(ErrorCode.NOT_FOUND, "Image not found");
  }

  const hasRefs = input.parts.some((p) => set(p.visualRef));
  const inConversation = new Set<string>(
    input.parts.flatMap((p) => (set(p.imageId) ? [p.imageId] : [])),
  );
  const needsImage = Boolean(task?.plugin.requiresImage) && inConversation.size === 0;
  if (hasRefs || needsImage) {
    const history = await loadHistory(deps.db, deps.ownerId, input.sessionId);
    for (const id of conversationImages(history)) inConversation.add(id);
  }
  if (needsImage && inConversation.size === 0)
    throw gatewayError(
      ErrorCode.IMAGE_REQUIRED,
      `task "${task!.plugin.name}" needs an image: add an imageId part to this message or to an earlier one of the session`,
      { task: task!.plugin.name },
    );

  const parts: PartInput[] = [];
  let refIndex = 0;
  for (const part of input.parts) {
    if (set(part.text)) parts.push({ kind: "text", text: part.text });
    else if (set(part.imageId)) parts.push({ kind: "image", imageId: part.imageId });
    else if (set(part.visualRef)) {
      const ref = await resolveRef(deps, input.sessionId, part.visualRef, images);
      if (!inConversation.has(ref.imageId)) {
        throw new PadtError(
          ErrorCode.VISUAL_REF_INVALID,
          "a visual reference must point at an image of this conversation",
        );
      }
      parts.push({ kind: "visual_ref", refIndex: refIndex++, ...ref });
    }
  }
  return { parts, task, options, idempotencyKey: input.idempotencyKey ?? null };
}

async function resolveRef(
  deps: ValidateDeps,
  sessionId: string,
  ref: NonNullable<MessagePartInput["visualRef"]>,
  images: Map<string, ImageMeta>,
): Promise<{ imageId: string; patches: number[]; label: string | null }> {
  const given = [ref.patches, ref.box, ref.refId].filter(set).length;
  if (given !== 1)
    throw new PadtError(
      ErrorCode.VISUAL_REF_INVALID,
      "a visual reference sets exactly one of patches, box, refId",
    );
  if (set(ref.refId)) {
    const parsed = parseVisualRefId(ref.refId);
    const message = parsed && (await getMessage(deps.db, deps.ownerId, parsed.messageId));
    if (!parsed || !message) throw new DbError(ErrorCode.NOT_FOUND, "Visual reference not found");
    if (message.sessionId !== sessionId)
      throw new PadtError(
        ErrorCode.VISUAL_REF_INVALID,
        "refId names a reference of another session",
      );
    const [part] = (await partsByMessageIds(deps.db, deps.ownerId, [message.id])).filter(
      (p) => p.kind === "visual_ref" && p.refIndex === parsed.index,
    );
    if (!part?.imageId || !part.patches)
      throw new DbError(ErrorCode.NOT_FOUND, "Visual reference not found");
    if (set(ref.imageId) && ref.imageId !== part.imageId)
      throw new PadtError(ErrorCode.VISUAL_REF_INVALID, "refId names a reference on another image");
    return { imageId: part.imageId, patches: part.patches, label: part.label };
  }
  if (!set(ref.imageId))
    throw new PadtError(ErrorCode.VISUAL_REF_INVALID, "patches and box need an imageId");
  const image = images.get(ref.imageId)!;
  const grid = await deps.images.grid(deps.db, image);
  const patches = set(ref.patches)
    ? checkPatches(ref.patches, grid)
    : boxToPatches(ref.box!, image, grid);
  return { imageId: image.id, patches, label: null };
}
