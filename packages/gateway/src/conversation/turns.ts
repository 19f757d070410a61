import type { ChatTurn, ContentPart } from "@padt/engine";
import { ErrorCode } from "@padt/protocol";
import type { TaskRegistry } from "@padt/task-api";
import type { Database } from "../db/database.js";
import { DbError } from "../db/errors.js";
import { getImageWithData } from "../db/repos/images.js";
import type { Message } from "../db/schema.js";
import type { History } from "./history.js";

export interface Conversation {
  turns: ChatTurn[];
  /** Image id of each image in conversation order (the engine's `image` index). */
  imageIds: string[];
}

/** The user text of a message: its task's prompt when it asked for a task, else its text parts. */
function userText(message: Message, tasks: TaskRegistry): string | null {
  if (!message.task) return null;
  const plugin = tasks.list().find((p) => p.name === message.task);
  if (!plugin) return null;
  const parsed = plugin.input.safeParse(message.taskInput);
  return parsed.success ? plugin.buildPrompt(parsed.data) : null;
}

/**
 * The chat turns for the engine: the session's history (user messages and completed
 * answers, oldest first, the new user message last). A message that asked for a task
 * keeps its images and visual references in order and gets the plugin's prompt as its text
 * (the template the model was trained on); the text the user typed is kept for display.
 */
export async function buildConversation(
  db: Database,
  ownerId: string,
  history: History,
  tasks: TaskRegistry,
): Promise<Conversation> {
  const imageIds: string[] = [];
  const firstIndex = new Map<string, number>();
  for (const m of history.messages) {
    for (const p of history.parts.get(m.id) ?? []) {
      if (p.kind === "image" && p.imageId) {
        if (!firstIndex.has(p.imageId)) firstIndex.set(p.imageId, imageIds.length);
        imageIds.push(p.imageId);
      }
    }
  }
  const bytes = new Map<string, Uint8Array>();
  for (const id of firstIndex.keys()) {
    const image = await getImageWithData(db, ownerId, id);
    if (!image?.data) throw new DbError(ErrorCode.NOT_FOUND, "Image not found");
    bytes.set(id, image.data);
  }
  const turns: ChatTurn[] = history.messages.map((m) => {
    const parts = history.parts.get(m.id) ?? [];
    const prompt = m.role === "user" ? userText(m, tasks) : null;
    const content: ContentPart[] = [];
    for (const p of parts) {
      if (p.kind === "text" && p.text !== null) {
        if (prompt === null) content.push({ type: "text", text: p.text });
      } else if (p.kind === "image" && p.imageId) {
        content.push({ type: "image", data: bytes.get(p.imageId)! });
      } else if (p.kind === "visual_ref" && p.imageId && p.patches) {
        const image = firstIndex.get(p.imageId);
        if (image !== undefined) content.push({ type: "visual-ref", image, patches: p.patches });
      }
    }
    if (prompt !== null) content.push({ type: "text", text: prompt });
    return { role: m.role, content };
  });
  return { turns, imageIds };
}
