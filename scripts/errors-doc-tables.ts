// The part of packages/gateway/ERRORS.md that the error catalogue (@padt/protocol's
// ERROR_CATALOGUE) writes: one table per layer, between two markers. The prose around it
// (how statuses work, Apollo's own codes, WebSocket close codes) stays hand-written.
import { fileURLToPath } from "node:url";
import { ERROR_CATALOGUE, type ErrorLayer, type ErrorSpec } from "@padt/protocol";

export const ERRORS_DOC = fileURLToPath(new URL("../packages/gateway/ERRORS.md", import.meta.url));

export const BEGIN = "<!-- error tables: written by `npm run errors:doc` from ERROR_CATALOGUE -->";
export const END = "<!-- end of error tables -->";

const SECTIONS: Record<ErrorLayer, string> = {
  engine: "Engine and task plugins",
  persistence: "Persistence",
  gateway: "Gateway",
};

// A "|" splits a table cell even inside backticks (GitHub's tables), so it is escaped.
const cell = (text: string) => text.replaceAll("|", "\\|");

function row(code: string, spec: ErrorSpec): string {
  const status = spec.statusNote ?? (spec.status === null ? "-" : String(spec.status));
  return `| \`${code}\` | ${cell(status)} | ${spec.retryable ? "yes" : "no"} | ${cell(spec.message)} |`;
}

export function errorTables(): string {
  const entries = Object.entries(ERROR_CATALOGUE) as [string, ErrorSpec][];
  return (Object.keys(SECTIONS) as ErrorLayer[])
    .map((layer) =>
      [
        `## ${SECTIONS[layer]}`,
        "",
        "| code | status | retry | when |",
        "| --- | --- | --- | --- |",
        ...entries.filter(([, spec]) => spec.layer === layer).map(([code, s]) => row(code, s)),
      ].join("\n"),
    )
    .join("\n\n");
}

/** The document with its generated part replaced by the catalogue's tables. */
export function withErrorTables(doc: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`ERRORS.md lacks the markers ${BEGIN} ... ${END}`);
  return `${doc.slice(0, begin + BEGIN.length)}\n\n${errorTables()}\n\n${doc.slice(end)}`;
}
