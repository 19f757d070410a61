import type { TaskInfo } from "../lib/types.js";

/** Form values for every kind of task input; converted by taskInput(). */
export interface TaskForm {
  expression: string;
  categories: string;
  prompt: string;
  json: string;
}

export const emptyTaskForm: TaskForm = { expression: "", categories: "", prompt: "", json: "{}" };

/** The TaskInput object for the chosen task (undefined for free chat). Throws on bad JSON. */
export function taskInput(
  task: TaskInfo | undefined,
  form: TaskForm,
): Record<string, unknown> | undefined {
  if (!task?.inputField) return undefined;
  const field = task.inputField;
  switch (field) {
    case "rec":
    case "res":
      return { [field]: { expression: form.expression } };
    case "ovd":
      return {
        ovd: {
          categories: form.categories
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean),
        },
      };
    case "ric":
      return { ric: form.prompt ? { prompt: form.prompt } : {} };
    default:
      return { [field]: JSON.parse(form.json) as unknown };
  }
}

export function TaskInputs(props: {
  task: TaskInfo | undefined;
  form: TaskForm;
  onChange(form: TaskForm): void;
}) {
  const { task, form, onChange } = props;
  if (!task) return null;
  switch (task.inputField) {
    case "rec":
    case "res":
      return (
        <input
          data-testid="task-expression"
          aria-label="Referring expression"
          placeholder="Referring expression, e.g. red circle"
          value={form.expression}
          onChange={(e) => onChange({ ...form, expression: e.target.value })}
        />
      );
    case "ovd":
      return (
        <input
          data-testid="task-categories"
          aria-label="Categories"
          placeholder="Categories, comma separated"
          value={form.categories}
          onChange={(e) => onChange({ ...form, categories: e.target.value })}
        />
      );
    case "ric":
      return (
        <input
          data-testid="task-prompt"
          aria-label="Prompt"
          placeholder="Prompt (optional)"
          value={form.prompt}
          onChange={(e) => onChange({ ...form, prompt: e.target.value })}
        />
      );
    default:
      return (
        <label>
          {task.inputType ?? task.name} (JSON)
          <textarea
            data-testid="task-json"
            rows={3}
            value={form.json}
            onChange={(e) => onChange({ ...form, json: e.target.value })}
          />
        </label>
      );
  }
}
