import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "@padt/protocol";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** A refusal outside GraphQL execution, shaped as a GraphQL response so clients read one format. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { errors: [{ message, extensions: { ...extensions, code } }] }, headers);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes`);
  }
}

/**
 * Reads and drops the rest of a refused body, so that the client gets to read the response;
 * past `cap` bytes the connection is cut instead (someone is streaming gigabytes at us).
 */
export function discardBody(req: IncomingMessage, cap: number): void {
  let seen = 0;
  req.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > cap) req.destroy();
  });
  req.resume();
}

/**
 * Reads a request body up to `limit` bytes. A Content-Length over the limit is refused before
 * reading; a chunked body is cut off as soon as it passes the limit. Either way the rest of
 * the body is discarded (not buffered) so that the client can read the 413.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(req, 8 * limit);
    return Promise.reject(new BodyTooLargeError(limit));
  }
  // Events rather than `for await`: leaving an async iterator early destroys the request,
  // and the client would see a reset instead of the 413.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      discardBody(req, 8 * limit);
      reject(new BodyTooLargeError(limit));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
