import { useState } from "react";
import type { Turn } from "../lib/history.js";
import type { StreamState } from "../lib/stream.js";

/** The request as the page sent it, for curl / GraphQL / JS; the result as JSON. */
function snippets(turn: Turn, state: StreamState): Record<string, string> {
  const out: Record<string, string> = {
    JSON: JSON.stringify(
      {
        messageId: state.messageId,
        status: state.status,
        result: state.result,
        usage: state.usage,
      },
      null,
      2,
    ),
  };
  const request = turn.request;
  if (!request) return out;
  const body = JSON.stringify(request);
  const url = `${location.origin}/graphql`;
  out.curl = `curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $PADT_KEY" -d '${body.replaceAll("'", "'\\''")}'`;
  out.GraphQL = `${request.query}\n\n# variables\n${JSON.stringify(request.variables, null, 2)}`;
  out.JS = `await fetch(${JSON.stringify(url)}, {\n  method: "POST",\n  headers: { "content-type": "application/json", authorization: \`Bearer \${PADT_KEY}\` },\n  body: JSON.stringify(${JSON.stringify(request, null, 2)}),\n}).then((r) => r.json());`;
  return out;
}

export function CopyMenu({ turn, state }: { turn: Turn; state: StreamState }) {
  const [copied, setCopied] = useState<string | null>(null);
  const all = snippets(turn, state);
  return (
    <span className="copy-menu">
      {Object.entries(all).map(([name, text]) => (
        <button
          key={name}
          type="button"
          data-testid={`copy-${name.toLowerCase()}`}
          onClick={() =>
            void navigator.clipboard
              .writeText(text)
              .then(() => setCopied(name))
              .catch(() => setCopied(null))
          }
        >
          Copy {name === "JSON" ? "result JSON" : name}
        </button>
      ))}
      <span role="status" className="sr-status">
        {copied ? `${copied} copied` : ""}
      </span>
    </span>
  );
}
