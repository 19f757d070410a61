import type { CombinedError } from "@urql/core";

/** "CODE: message" from the server's typed errors (extensions.code), else the network error. */
export function describeError(error: CombinedError | Error | unknown): string {
  const combined = error as Partial<CombinedError>;
  const first = combined.graphQLErrors?.[0];
  if (first) {
    const code = first.extensions?.code;
    return typeof code === "string" ? `${code}: ${first.message}` : first.message;
  }
  if (combined.networkError) return `Network error: ${combined.networkError.message}`;
  return error instanceof Error ? error.message : String(error);
}
