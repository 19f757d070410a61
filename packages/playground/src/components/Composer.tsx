import { useEffect, useState } from "react";
import type { Attachment, TaskInfo } from "../lib/types.js";
import { emptyTaskForm, type TaskForm, TaskInputs, taskInput } from "./TaskInputs.js";

export interface Draft {
  text: string;
  task: Record<string, unknown> | undefined;
  maxNewTokens: number | undefined;
}

interface Props {
  tasks: TaskInfo[];
  attachments: Attachment[];
  busy: boolean;
  onClearAttachments(): void;
  onUpload(file: File): void;
  onSend(draft: Draft): void;
  onError(message: string): void;
}

/** Image upload (file or paste), task choice with its inputs, text, attached references, send. */
export function Composer({
  tasks,
  attachments,
  busy,
  onClearAttachments,
  onUpload,
  onSend,
  onError,
}: Props) {
  const [taskName, setTaskName] = useState("");
  const [form, setForm] = useState<TaskForm>(emptyTaskForm);
  const [text, setText] = useState("");
  const [maxNewTokens, setMaxNewTokens] = useState("");
  const task = tasks.find((t) => t.name === taskName);
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
          Image
          <input
            type="file"
            accept="image/*"
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
          value={taskName}
          onChange={(e) => setTaskName(e.target.value)}
        >
          <option value="">Free chat</option>
          {tasks.map((t) => (
            <option key={t.name} value={t.name} title={t.description}>
              {t.name.toUpperCase()} — {t.description}
            </option>
          ))}
        </select>
        <input
          className="tokens"
          data-testid="max-new-tokens"
          type="number"
          min={1}
          placeholder="max tokens"
          value={maxNewTokens}
          onChange={(e) => setMaxNewTokens(e.target.value)}
        />
      </div>
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
          rows={2}
          placeholder={task ? "Optional text" : "Ask about the image (paste an image here too)"}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" data-testid="send" disabled={busy}>
          Send
        </button>
      </div>
    </form>
  );
}
