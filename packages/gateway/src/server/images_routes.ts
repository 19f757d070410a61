import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode } from "@padt/protocol";
import { authenticate } from "../auth.js";
import { getImageWithData, type ImageMeta } from "../db/repos/images.js";
import { classify } from "../errors.js";
import type { Services } from "../graphql/context.js";
import { BodyTooLargeError, readBody, sendError, sendJson } from "./respond.js";

/** The Image object as the GraphQL schema shapes it (POST /images answers with it). */
export async function imageJson(image: ImageMeta, services: Services) {
  const grid = await services.images.grid(services.db, image);
  return {
    __typename: "Image",
    id: image.id,
    sha256: image.sha256,
    width: image.width,
    height: image.height,
    mimeType: image.mimeType,
    url: `/images/${image.id}`,
    gridWidth: grid.gridWidth,
    gridHeight: grid.gridHeight,
  };
}

async function owner(services: Services, req: IncomingMessage, res: ServerResponse) {
  const found = await authenticate(services.db, req.headers.authorization);
  if (!found)
    sendError(
      res,
      401,
      ErrorCode.UNAUTHENTICATED,
      "A valid API key is required: Authorization: Bearer <key>",
      {},
      { "www-authenticate": "Bearer" },
    );
  return found;
}

/**
 * GET /images/:id (`rawId` as it is in the path, still percent-encoded): the owner's stored
 * (sanitized) bytes; another owner's image is a 404, a malformed escape a 400.
 */
export async function serveImage(
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
  rawId: string,
) {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    sendError(res, 400, ErrorCode.BAD_REQUEST, "The image id is not valid percent-encoding");
    return;
  }
  const who = await owner(services, req, res);
  if (!who) return;
  const image = await getImageWithData(services.db, who.id, id);
  if (!image?.data) {
    sendError(res, 404, ErrorCode.NOT_FOUND, "Image not found");
    return;
  }
  res.writeHead(200, {
    "content-type": image.mimeType,
    "content-length": image.data.byteLength,
    "cache-control": "private, max-age=31536000, immutable",
    etag: `"${image.sha256}"`,
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cross-origin-resource-policy": "same-origin",
  });
  res.end(image.data);
}

const IMAGE_ERROR_STATUS: Record<string, number> = {
  [ErrorCode.IMAGE_TOO_LARGE]: 413,
};

/**
 * POST /images: multipart/form-data with one file (field `file`), for clients that would
 * rather not base64-encode. Like Apollo's CSRF prevention, it needs an
 * `Apollo-Require-Preflight` (or `X-Apollo-Operation-Name`) header: a browser cannot send
 * one cross-origin without a CORS preflight, so a form on another site cannot post here.
 */
export async function uploadImage(services: Services, req: IncomingMessage, res: ServerResponse) {
  const preflight =
    req.headers["apollo-require-preflight"] || req.headers["x-apollo-operation-name"];
  if (!preflight) {
    sendError(
      res,
      400,
      ErrorCode.CSRF_PREFLIGHT_REQUIRED,
      "This request needs an Apollo-Require-Preflight header (CSRF prevention)",
    );
    req.resume();
    return;
  }
  const who = await owner(services, req, res);
  if (!who) {
    req.resume();
    return;
  }
  const contentType = req.headers["content-type"] ?? "";
  if (!/^multipart\/form-data/i.test(contentType)) {
    req.resume();
    sendError(
      res,
      415,
      ErrorCode.BAD_REQUEST,
      "Send the image as multipart/form-data, field `file`",
    );
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, services.limits.bodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      sendError(res, 413, ErrorCode.BODY_TOO_LARGE, error.message, {}, { connection: "close" });
      return;
    }
    throw error;
  }
  let file: File | undefined;
  try {
    const form = await new Request("http://local/", {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    }).formData();
    const entry = form.get("file") ?? [...form.values()].find((v) => typeof v !== "string");
    if (entry && typeof entry !== "string") file = entry;
  } catch {
    file = undefined;
  }
  if (!file) {
    sendError(res, 400, ErrorCode.BAD_REQUEST, "No file in the form (field `file`)");
    return;
  }
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const image = await services.images.upload(
      services.db,
      who.id,
      bytes,
      file.type.startsWith("image/") ? file.type : null,
    );
    sendJson(res, 200, await imageJson(image, services));
  } catch (error) {
    const known = classify(error);
    if (!known) throw error;
    sendError(
      res,
      IMAGE_ERROR_STATUS[known.code] ?? 400,
      known.code,
      known.message,
      known.extensions,
    );
  }
}
