import { pino } from "pino";

/** Structured JSON logs; `LOG_LEVEL` sets the level (default info, silent in tests). */
export function createLogger(
  level = process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info"),
) {
  return pino({
    level,
    base: { service: "padt-gateway" },
    redact: ["req.headers.authorization", "apiKey"],
  });
}
export type Logger = ReturnType<typeof createLogger>;
