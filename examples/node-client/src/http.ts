import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

/** One GraphQL request over HTTP POST; the document's generated types type the result. */
export async function request<Result, Variables>(
  url: string,
  key: string,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): Promise<Result> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as {
    data?: Result;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  // The server's errors carry a stable code (extensions.code, see packages/gateway/ERRORS.md).
  const error = body.errors?.[0];
  if (error) throw new Error(`${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  if (!body.data) throw new Error(`HTTP ${response.status} without data`);
  return body.data;
}
