import { maxHeaderSize, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { ErrorCode } from "@padt/protocol";

/** Node's parser errors that have a status of their own; anything else is a 400. */
const REFUSALS: Record<string, { status: number; code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: ErrorCode.HEADERS_TOO_LARGE,
    message: `The request headers are larger than ${maxHeaderSize} bytes (an API key is 48 characters)`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: ErrorCode.BODY_TOO_LARGE,
    message: "The request's chunk extensions are too large",
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: ErrorCode.BAD_REQUEST,
    message: "The request took too long to arrive",
  },
};

/**
 * The server's `clientError` listener: a request Node's HTTP parser refused (headers over
 * `maxHeaderSize`, malformed syntax) gets the same GraphQL-shaped JSON body as every other
 * refusal, where Node's default answers a bare status line. The conditions are Node's own:
 * write only while the socket is writable and no response on it has begun.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal = REFUSALS[error.code ?? ""] ?? {
    status: 400,
    code: ErrorCode.BAD_REQUEST,
    message: "The request is not valid HTTP",
  };
  const body = JSON.stringify({
    errors: [{ message: refusal.message, extensions: { code: refusal.code } }],
  });
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      "cache-control: no-store\r\nconnection: close\r\n\r\n" +
      body,
  );
}
