/**
 * deploy/ cannot run here (no container runtime), so its promises are checked against the
 * code: every service command is one `padt` accepts (the CLI's own configuration parser, with
 * the example environment), the health checks probe the ports the commands serve on, and every
 * variable of the example environment is one padt reads or one the compose file interpolates.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@padt/gateway";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const composeText = readFileSync(join(ROOT, "deploy/compose.yaml"), "utf8");
const compose = parse(composeText) as {
  services: Record<string, { command?: string[]; healthcheck?: { test: string[] } }>;
};
const exampleEnv = Object.fromEntries(
  readFileSync(join(ROOT, "deploy/example.env"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
) as Record<string, string>;

/** `${NAME}` as docker compose interpolates it, from the example environment. */
const interpolate = (s: string) =>
  s.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = exampleEnv[name];
    if (value === undefined) throw new Error(`compose.yaml uses \${${name}}, not in example.env`);
    return value;
  });

/** Environment variables the packages read: `env.NAME`, `env["NAME"]`, and the PADT_* names in tables. */
function variablesPadtReads(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/env(?:\.|\[")([A-Z][A-Z0-9_]+)/g)) names.add(m[1] as string);
        for (const m of text.matchAll(/"(PADT_[A-Z0-9_]+)"/g)) names.add(m[1] as string);
      }
    }
  };
  for (const pkg of readdirSync(join(ROOT, "packages"))) {
    const src = join(ROOT, "packages", pkg, "src");
    try {
      if (statSync(src).isDirectory()) walk(src);
    } catch {
      // a package without sources (the playground's assets, say)
    }
  }
  return names;
}

const commands = Object.entries(compose.services).filter(([, s]) => s.command);

describe("deploy/", () => {
  it("runs padt serve --role gateway and padt worker", () => {
    expect(commands.map(([name, s]) => [name, s.command?.[0]])).toEqual([
      ["gateway", "serve"],
      ["worker", "worker"],
    ]);
  });

  it.each(commands)(
    "%s: its command parses with padt's configuration parser and the example environment",
    (name, service) => {
      const [command, ...flags] = (service.command as string[]).map(interpolate);
      const config = loadConfig(flags, exampleEnv);
      expect(config.databaseUrl).toBe(exampleEnv.DATABASE_URL);
      expect(config.modelPath).toBe(`/models/${exampleEnv.PADT_MODEL_NAME}`);
      if (command === "serve") expect(config.role).toBe("gateway");
      // padt worker refuses --role (it is a role of its own).
      else expect(config.role).toBe("all");
      // The health check probes the port the command serves on.
      const probe = service.healthcheck?.test.join(" ") ?? "";
      const port = command === "serve" ? config.port : config.metricsPort;
      expect(probe, name).toContain(
        `http://127.0.0.1:${port}/${command === "serve" ? "readyz" : "healthz"}`,
      );
    },
  );

  it("every variable of example.env is one padt reads or one compose.yaml interpolates", () => {
    const read = variablesPadtReads();
    const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    const commented = [
      ...readFileSync(join(ROOT, "deploy/example.env"), "utf8").matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm),
    ].map((m) => m[1] as string);
    const unknown = [...Object.keys(exampleEnv), ...commented].filter(
      (name) => !read.has(name) && !interpolated.has(name),
    );
    expect(unknown).toEqual([]);
    // And the check itself knows the settings it guards.
    expect(read).toContain("PADT_LEASE_MS");
    expect(read).toContain("PADT_MAX_QUEUE");
  });
});
