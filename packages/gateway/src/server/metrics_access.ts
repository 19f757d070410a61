/**
 * Who may read /metrics. The metrics name no owner, but they tell an outsider the load, the
 * model's speed and when to hit hardest: with a token configured, its bearers (from
 * anywhere); without one, clients on this machine only.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ErrorCode } from "@padt/protocol";
import { keyFromAuthorization } from "../auth.js";

export interface MetricsRefusal {
  status: 401 | 403;
  code: ErrorCode;
  message: string;
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4 === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Headers a reverse proxy adds: the request came from elsewhere, whatever its socket says. */
const RELAYED = ["forwarded", "x-forwarded-for", "x-real-ip"];

const digest = (s: string) => createHash("sha256").update(s).digest();

export function metricsAccess(
  token: string | undefined,
): (req: IncomingMessage) => MetricsRefusal | undefined {
  if (token) {
    const expected = digest(token);
    return (req) => {
      const given = keyFromAuthorization(req.headers.authorization);
      if (given && timingSafeEqual(digest(given), expected)) return undefined;
      return {
        status: 401,
        code: ErrorCode.UNAUTHENTICATED,
        message: "/metrics needs Authorization: Bearer <the metrics token>",
      };
    };
  }
  return (req) => {
    if (isLoopback(req.socket.remoteAddress) && !RELAYED.some((h) => h in req.headers))
      return undefined;
    return {
      status: 403,
      code: ErrorCode.METRICS_FORBIDDEN,
      message:
        "/metrics answers clients on this machine only; set a metrics token (PADT_METRICS_TOKEN) to read it from elsewhere",
    };
  };
}
