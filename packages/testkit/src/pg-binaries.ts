import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Directory holding `initdb`, `pg_ctl` and `postgres`, or undefined when PostgreSQL is not installed. */
export function findPostgresBinDir(): string | undefined {
  const candidates = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  // Debian keeps the server binaries off PATH, one directory per major version; prefer the newest.
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, "bin")));
  }
  return candidates.find((dir) =>
    ["initdb", "pg_ctl", "postgres"].every((bin) => existsSync(join(dir, bin))),
  );
}
