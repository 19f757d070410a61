export interface SessionItem {
  id: string;
  title: string | null;
  updatedAt: string;
}

export function Sessions(props: {
  sessions: SessionItem[];
  current: string | null;
  onSelect(id: string): void;
  onNew(): void;
}) {
  return (
    <nav className="sessions">
      <button type="button" data-testid="new-chat" onClick={props.onNew}>
        + New chat
      </button>
      <ul>
        {props.sessions.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={s.id === props.current ? "current" : ""}
              onClick={() => props.onSelect(s.id)}
            >
              {s.title || "Untitled"}
              <small>{new Date(s.updatedAt).toLocaleString()}</small>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
