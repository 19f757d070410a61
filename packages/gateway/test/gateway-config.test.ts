import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  boxToPatches,
  checkPatches,
  parseVisualRefId,
  visualRefId,
} from "../src/conversation/refs.js";
import { DEFAULT_LIMITS, loadConfig, SHIPPED_TASKS } from "../src/index.js";
import { loadTasks } from "../src/tasks.js";

describe("configuration", () => {
  it("defaults, then a config file, then the environment, then flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "padt-config-"));
    const file = join(dir, "padt.json");
    writeFileSync(file, JSON.stringify({ port: 5000, limits: { textLength: 100 }, drainMs: 1 }));
    const config = loadConfig(["--config", file, "--port", "6000", "--data-dir", dir], {
      PORT: "5500",
      PADT_MAX_IMAGE_PIXELS: "4000000",
      DATABASE_URL: "postgres://x/y",
      PADT_TASKS: "@padt/tasks-count, @padt/tasks-rec",
    });
    expect(config.port).toBe(6000);
    expect(config.limits).toEqual({ ...DEFAULT_LIMITS, textLength: 100, imagePixels: 4_000_000 });
    expect(config.drainMs).toBe(1);
    expect(config.databaseUrl).toBe("postgres://x/y");
    expect(config.dataDir).toBe(dir);
    // Adding a task is one entry; the shipped ones stay, without duplicates.
    expect(config.tasks).toEqual([...SHIPPED_TASKS, "@padt/tasks-count"]);
  });

  it("takes padt worker's metrics port from --metrics-port or PADT_METRICS_PORT (unset: none)", () => {
    expect(loadConfig([], {})).not.toHaveProperty("metricsPort");
    expect(loadConfig([], { PADT_METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(loadConfig(["--metrics-port", "0"], { PADT_METRICS_PORT: "9464" }).metricsPort).toBe(0);
    expect(() => loadConfig(["--metrics-port", "x"], {})).toThrow(/--metrics-port/);
  });

  it("takes the engine's threads and workers from flags or the environment", () => {
    expect(loadConfig([], {})).not.toHaveProperty("threads");
    expect(loadConfig([], { PADT_THREADS: "3", PADT_WORKERS: "2" })).toMatchObject({
      threads: 3,
      workers: 2,
    });
    expect(loadConfig(["--threads", "1"], { PADT_THREADS: "3" }).threads).toBe(1);
    expect(() => loadConfig(["--workers", "-1"], {})).toThrow(/--workers/);
  });

  it("takes each engine worker's batch of answers from --batch or PADT_BATCH", () => {
    expect(loadConfig([], {})).not.toHaveProperty("batch");
    expect(loadConfig([], { PADT_BATCH: "4" }).batch).toBe(4);
    expect(loadConfig(["--batch", "2"], { PADT_BATCH: "4" }).batch).toBe(2);
    expect(() => loadConfig(["--batch", "0"], {})).toThrow(/--batch must be at least 1/);
  });

  it("takes the weight layout from --weights or PADT_WEIGHTS, refusing unknown ones", () => {
    expect(loadConfig([], {})).not.toHaveProperty("weights");
    expect(loadConfig([], { PADT_WEIGHTS: "mapped" }).weights).toBe("mapped");
    expect(loadConfig(["--weights", "packed"], { PADT_WEIGHTS: "mapped" }).weights).toBe("packed");
    expect(() => loadConfig(["--weights", "mmap"], {})).toThrow(/--weights must be one of/);
  });

  it("takes the bundle check from --verify or PADT_VERIFY, refusing unknown ones", () => {
    expect(loadConfig([], {})).not.toHaveProperty("verify");
    expect(loadConfig([], { PADT_VERIFY: "size" }).verify).toBe("size");
    expect(loadConfig(["--verify", "full"], { PADT_VERIFY: "size" }).verify).toBe("full");
    expect(() => loadConfig(["--verify", "fast"], {})).toThrow(/--verify must be one of/);
  });

  it("re-checks the keys of open sockets every 2 s unless PADT_KEY_CHECK_MS says otherwise", () => {
    expect(loadConfig([], {}).keyCheckMs).toBe(2000);
    expect(loadConfig([], { PADT_KEY_CHECK_MS: "250" }).keyCheckMs).toBe(250);
    for (const bad of ["0", "-5", "soon"])
      expect(() => loadConfig([], { PADT_KEY_CHECK_MS: bad })).toThrow(/PADT_KEY_CHECK_MS/);
  });

  it("refuses unknown flags, unknown limits and bad numbers", () => {
    expect(() => loadConfig(["--prot", "1"], {})).toThrow();
    expect(() => loadConfig([], { PADT_MAX_PARTS: "-3" })).toThrow(/PADT_MAX_PARTS/);
    const dir = mkdtempSync(join(tmpdir(), "padt-config-"));
    writeFileSync(join(dir, "c.json"), JSON.stringify({ limits: { nope: 1 } }));
    expect(() => loadConfig(["--config", join(dir, "c.json")], {})).toThrow(/unknown limit/);
  });

  it("loads task plugins by module name", async () => {
    const registry = await loadTasks(SHIPPED_TASKS);
    expect(registry.list().map((p) => p.name)).toEqual(["rec", "res", "ovd", "ric"]);
    await expect(loadTasks(["@padt/no-such-task"])).rejects.toThrow();
  });
});

describe("visual reference ids and patches", () => {
  it("round-trips ids and refuses others", () => {
    const id = visualRefId("0190a8a0-0000-7000-8000-000000000000", 3);
    expect(parseVisualRefId(id)).toEqual({
      messageId: "0190a8a0-0000-7000-8000-000000000000",
      index: 3,
    });
    expect(parseVisualRefId("0190a8a0-0000-7000-8000-000000000000")).toBeUndefined();
    expect(parseVisualRefId("vref_x_1")).toBeUndefined();
  });

  it("turns a box into the grid cells it covers", () => {
    const image = { width: 280, height: 140 };
    const grid = { gridWidth: 10, gridHeight: 5 }; // 28 px cells
    expect(boxToPatches({ x: 0, y: 0, width: 28, height: 28 }, image, grid)).toEqual([0]);
    expect(boxToPatches({ x: 20, y: 20, width: 20, height: 20 }, image, grid)).toEqual([
      0, 1, 10, 11,
    ]);
    expect(boxToPatches({ x: 0, y: 0, width: 280, height: 140 }, image, grid)).toHaveLength(50);
    expect(() => boxToPatches({ x: 270, y: 0, width: 20, height: 5 }, image, grid)).toThrow(
      /not inside/,
    );
    expect(() => boxToPatches({ x: 0, y: 0, width: 0, height: 5 }, image, grid)).toThrow();
    expect(() => checkPatches([50], grid)).toThrow(/outside/);
    expect(checkPatches([1, 1, 1, 0, 1], grid)).toEqual([1, 0]);
    expect(checkPatches([49, 0], grid)).toEqual([49, 0]);
  });
});
