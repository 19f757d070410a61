import { useEffect, useState } from "react";
import type { TurnDescription } from "../lib/history.js";
import type { Attachment, TaskInfo } from "../lib/types.js";
import { emptyTaskForm, type TaskForm, TaskInputs, taskInput } from "./TaskInputs.js";

export interface Draft {
  text: string;
  task: Record<string, unknown> | undefined;
  maxNewTokens: number | undefined;
  description: TurnDescription;
}

/** A task and its inputs to fill in, e.g. from an onboarding sample. */
export interface Preset {
  task: string;
  form: Partial<TaskForm>;
}

interface Props {
  tasks: TaskInfo[];
  /** The model answers plain chat (ModelInfo.freeChat). */
  freeChat: boolean;
  attachments: Attachment[];
  busy: boolean;
  onClearAttachments(): void;
  onUpload(file: File): void;
  onSend(draft: Draft): void;
  onError(message: string): void;
  preset: Preset | null;
}

function summarize(task: TaskInfo | undefined, form: TaskForm, text: string): string {
  switch (task?.inputField) {
    case "rec":
    case "res":
      return `“${form.expression}”${text ? ` ${text}` : ""}`;
    case "ovd":
      return form.categories;
    case "ric":
      return form.prompt || text || "describe the image";
    default:
      return text;
  }
}

/** Image upload (file or paste), task choice with its inputs, text, attached references, send. */
export function Composer({
  tasks,
  freeChat,
  attachments,
  busy,
  onClearAttachments,
  onUpload,
  onSend,
  onError,
  preset,
}: Props) {
  const [taskName, setTaskName] = useState("");
  const [form, setForm] = useState<TaskForm>(emptyTaskForm);
  const [text, setText] = useState("");
  const [maxNewTokens, setMaxNewTokens] = useState("");
  const task = tasks.find((t) => t.name === taskName);
  useEffect(() => {
    if (!preset) return;
    setTaskName(preset.task);
    setForm((f) => ({ ...f, ...preset.form }));
  }, [preset]);
  // Paste an image anywhere on the page to upload it.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (!file) return;
      e.preventDefault();
      onUpload(file);
    };
    window.addEventListener("paste", onPaste);
    return () => window.removeEventListener("paste", onPaste);
  }, [onUpload]);
  const send = () => {
    let input: Record<string, unknown> | undefined;
    try {
      input = taskInput(task, form);
    } catch (error) {
      return onError(`Task input is not valid JSON: ${(error as Error).message}`);
    }
    onSend({
      text: text.trim(),
      task: input,
      maxNewTokens: maxNewTokens ? Number(maxNewTokens) : undefined,
      description: {
        task: task?.name ?? null,
        summary: summarize(task, form, text.trim()),
        regions: attachments.length,
      },
    });
    setText("");
  };
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div className="row">
        <label className="upload">
          Image <small>(or drop / paste)</small>
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            data-testid="image-input"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onUpload(file);
              e.target.value = "";
            }}
          />
        </label>
        <select
          data-testid="task-select"
          aria-label="Task"
          value={taskName}
          onChange={(e) => setTaskName(e.target.value)}
        >
          <option value="">
            {freeChat ? "Free chat" : "Free chat (not a task of this model)"}
          </option>
          {tasks.map((t) => (
            <option key={t.name} value={t.name} title={t.description}>
              {t.name.toUpperCase()} — {t.description}
              {t.supported ? "" : " (not trained for it)"}
            </option>
          ))}
        </select>
        <input
          className="tokens"
          aria-label="Maximum answer tokens"
          data-testid="max-new-tokens"
          type="number"
          min={1}
          placeholder="max tokens"
          value={maxNewTokens}
          onChange={(e) => setMaxNewTokens(e.target.value)}
        />
      </div>
      {tasks.length > 0 && !task && !freeChat && (
        <p className="note" data-testid="free-chat-note">
          The loaded model is trained for{" "}
          {tasks
            .filter((t) => t.supported)
            .map((t) => t.name.toUpperCase())
            .join(", ")}
          ; free chat is not among its tasks, so its answers may make little sense.
        </p>
      )}
      <TaskInputs task={task} form={form} onChange={setForm} />
      {attachments.length > 0 && (
        <p className="attachments" data-testid="attachments">
          {attachments.length} visual reference{attachments.length > 1 ? "s" : ""} attached{" "}
          <button type="button" onClick={onClearAttachments}>
            clear
          </button>
        </p>
      )}
      <div className="row">
        <textarea
          data-testid="message-text"
          aria-label="Message"
          aria-keyshortcuts="Enter"
          rows={2}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line; not while an IME is composing.
            if (e.key !== "Enter" || e.shiftKey || e.nativeEvent.isComposing) return;
            e.preventDefault();
            if (!busy) send();
          }}
          placeholder={task ? "Optional text" : "Ask about the image (paste an image here too)"}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" data-testid="send" disabled={busy} title="Send (Enter)">
          Send
        </button>
      </div>
    </form>
  );
}
