/**
 * A list of strings written exactly as Python's `json.dumps` writes it (", " separators,
 * non-ASCII as \uXXXX): the OVD prompts the models were trained on were made that way.
 */
export function pythonJsonStringList(items: readonly string[]): string {
  return `[${items.map(pythonJsonString).join(", ")}]`;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function pythonJsonString(value: string): string {
  let out = '"';
  // Iterating UTF-16 code units on purpose: Python escapes astral characters as surrogate pairs.
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const code = value.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
