import type { SessionsQuery } from "../gql/graphql.js";

export type SessionItem = SessionsQuery["sessions"]["edges"][number]["node"];

/** The chat list (a drawer on narrow screens): open, rename, delete, start a new one. */
export function Sessions(props: {
  open: boolean;
  sessions: SessionItem[];
  current: string | null;
  onSelect(id: string): void;
  onNew(): void;
  onRename(id: string, title: string): void;
  onDelete(id: string): void;
}) {
  return (
    <nav className={props.open ? "sessions open" : "sessions"} aria-label="Chats">
      <button type="button" data-testid="new-chat" onClick={props.onNew}>
        + New chat
      </button>
      <ul>
        {props.sessions.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={s.id === props.current ? "current" : ""}
              aria-current={s.id === props.current ? "page" : undefined}
              onClick={() => props.onSelect(s.id)}
            >
              {s.title || "Untitled"}
              <small>{new Date(s.updatedAt).toLocaleString()}</small>
            </button>
            <span className="session-actions">
              <button
                type="button"
                aria-label={`Rename ${s.title || "Untitled"}`}
                onClick={() => {
                  const title = window.prompt("New title", s.title ?? "")?.trim();
                  if (title) props.onRename(s.id, title);
                }}
              >
                Rename
              </button>
              <button
                type="button"
                aria-label={`Delete ${s.title || "Untitled"}`}
                onClick={() => {
                  if (window.confirm(`Delete “${s.title || "Untitled"}”?`)) props.onDelete(s.id);
                }}
              >
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
    </nav>
  );
}
