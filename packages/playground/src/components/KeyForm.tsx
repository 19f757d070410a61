import { useState } from "react";

export function KeyForm(props: {
  initial: string;
  error: string | null;
  onSubmit(key: string): void;
}) {
  const [key, setKey] = useState(props.initial);
  return (
    <form
      className="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit(key.trim());
      }}
    >
      <h1>PaDT Studio playground</h1>
      <label>
        API key{" "}
        <small>
          (printed by <code>padt serve</code>, or <code>padt keys create</code>)
        </small>
        <input
          data-testid="api-key"
          type="password"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="padt_..."
          autoComplete="off"
        />
      </label>
      <button type="submit" data-testid="api-key-submit" disabled={!key.trim()}>
        Connect
      </button>
      {props.error && (
        <p className="error" role="alert">
          {props.error}
        </p>
      )}
    </form>
  );
}
