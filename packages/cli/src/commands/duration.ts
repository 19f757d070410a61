import { UsageError } from "./common.js";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `10m`, `45s` as milliseconds; anything else (zero included) is a usage error naming the flag. */
export function durationFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  const amount = match ? Number(match[1]) : 0;
  const ms = match ? amount * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
  if (!match || amount <= 0 || !Number.isSafeInteger(ms))
    throw new UsageError(
      `--${name} must be a positive whole number with a unit s, m, h or d (e.g. 30d, 10m), got "${value}"`,
    );
  return ms;
}
