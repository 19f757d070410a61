/**
 * What one client may hold open, and who may read /metrics. Real HTTP and WebSocket clients
 * (graphql-transport-ws spoken by hand, to see every message and close code), a real
 * database, the real engine (tiny bundle).
 */
import { networkInterfaces } from "node:os";
import type { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Gateway, startGateway } from "../src/index.js";
import { isLoopback } from "../src/server/metrics_access.js";
import { loadTinyEngine } from "./helpers/engines.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let engine: PadtEngine;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(() => engine?.close());

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** One graphql-transport-ws connection, acknowledged, with its messages queued by id. */
class RawSocket {
  readonly #inbox = new Map<string, Message[]>();
  readonly #waiting = new Map<string, (m: Message) => void>();
  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const m = JSON.parse(String(data)) as Message;
      if (!m.id) return;
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (waiter) waiter(m);
      else this.#inbox.set(m.id, [...(this.#inbox.get(m.id) ?? []), m]);
    });
  }

  /** Acknowledged, or how the server closed it. */
  static open(url: string, key: string): Promise<RawSocket | { code: number; reason: string }> {
    const socket = new WebSocket(`${url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.once("open", () =>
        socket.send(
          JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }),
        ),
      );
      const onAck = (data: WebSocket.RawData) => {
        if ((JSON.parse(String(data)) as Message).type !== "connection_ack") return;
        socket.off("message", onAck);
        resolve(new RawSocket(socket));
      };
      socket.on("message", onAck);
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  subscribe(id: string, sessionId: string): void {
    const query = `subscription($id: ID!) { sessionEvents(sessionId: $id) { __typename } }`;
    this.socket.send(
      JSON.stringify({ id, type: "subscribe", payload: { query, variables: { id: sessionId } } }),
    );
  }

  complete(id: string): void {
    this.socket.send(JSON.stringify({ id, type: "complete" }));
  }

  /** The next message for operation `id` (next, error or complete). */
  /** Whether a message for `id` has arrived and waits to be read. */
  has(id: string): boolean {
    return (this.#inbox.get(id)?.length ?? 0) > 0;
  }

  next(id: string): Promise<Message> {
    const queued = this.#inbox.get(id);
    if (queued?.length) return Promise.resolve(queued.shift()!);
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close(1000);
    });
  }
}

function acknowledged(s: RawSocket | { code: number; reason: string }): RawSocket {
  if (!(s instanceof RawSocket)) throw new Error(`closed ${s.code} ${s.reason}`);
  return s;
}

/** The server releases a closed socket's places when its close handler has run: try a few times. */
async function eventually<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const value = await attempt();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("never");
}

const RENAME = `mutation($id: ID!, $t: String!) { renameSession(id: $id, title: $t) { id } }`;

/**
 * Renames until every listed subscription has an event waiting: graphql-ws acknowledges no
 * subscribe, so one rename sent right after subscribing can be published before the server has
 * registered the subscription (seen under load).
 */
async function renameUntilSeen(
  rename: (title: string) => Promise<unknown>,
  seen: readonly (readonly [RawSocket, string])[],
): Promise<void> {
  let n = 0;
  await eventually(async () => {
    await rename(`renamed ${n++}`);
    await new Promise((r) => setTimeout(r, 20));
    return seen.every(([socket, id]) => socket.has(id)) ? true : undefined;
  });
}
const CREATE = `mutation { createSession(input: {}) { id } }`;

describe.each(availableDatabaseKinds())("per-owner WebSocket limits on %s", (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, engine, {
      config: {
        limits: { socketsPerOwner: 2, subscriptionsPerSocket: 3, subscriptionsPerOwner: 4 },
      },
    });
  });
  afterAll(() => s?.close());

  it("closes an owner's socket past socketsPerOwner with 1013; other owners are not affected", async () => {
    const a = await s.newKey();
    const b = await s.newKey();
    const a1 = acknowledged(await RawSocket.open(s.url, a.key));
    const a2 = acknowledged(await RawSocket.open(s.url, a.key));
    const a3 = await RawSocket.open(s.url, a.key);
    expect(a3).toEqual({ code: 1013, reason: expect.stringContaining("At most 2 WebSockets") });
    const b1 = acknowledged(await RawSocket.open(s.url, b.key));
    // A closed socket gives its place back.
    await a1.close();
    const a4 = await eventually(async () => {
      const opened = await RawSocket.open(s.url, a.key);
      return opened instanceof RawSocket ? opened : undefined;
    });
    await Promise.all([a2, b1, a4].map((x) => x.close()));
  });

  it("refuses an owner's operation past subscriptionsPerOwner, counted on all its sockets", async () => {
    const a = await s.newKey();
    const b = await s.newKey();
    const sa = (await s.gql(CREATE, {}, a.key)).body.data.createSession.id as string;
    const sb = (await s.gql(CREATE, {}, b.key)).body.data.createSession.id as string;
    const a1 = acknowledged(await RawSocket.open(s.url, a.key));
    const a2 = acknowledged(await RawSocket.open(s.url, a.key));
    for (const id of ["1", "2", "3"]) a1.subscribe(id, sa);
    a2.subscribe("4", sa);
    // All four are live: each one sees the rename.
    const live = [
      [a1, "1"],
      [a1, "2"],
      [a1, "3"],
      [a2, "4"],
    ] as const;
    await renameUntilSeen((t) => s.gql(RENAME, { id: sa, t }, a.key), live);
    for (const [socket, id] of live) expect((await socket.next(id)).type).toBe("next");

    a2.subscribe("5", sa);
    const refused = await a2.next("5");
    expect(refused.type).toBe("error");
    expect(refused.payload).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("At most 4 operations at once per owner"),
        extensions: expect.objectContaining({ code: "TOO_MANY_SUBSCRIPTIONS" }),
      }),
    ]);

    // Another owner has its own count.
    const b1 = acknowledged(await RawSocket.open(s.url, b.key));
    b1.subscribe("1", sb);
    await renameUntilSeen((t) => s.gql(RENAME, { id: sb, t }, b.key), [[b1, "1"]]);
    expect((await b1.next("1")).type).toBe("next");

    // An operation the client completes, and a closed socket's operations, give their places back.
    a1.complete("1");
    await eventually(async () => {
      a2.subscribe("6", sa);
      await s.gql(RENAME, { id: sa, t: "again" }, a.key);
      return (await a2.next("6")).type === "next" ? true : undefined;
    });
    await a1.close();
    const a3 = await eventually(async () => {
      const opened = await RawSocket.open(s.url, a.key);
      return opened instanceof RawSocket ? opened : undefined;
    });
    // a2 holds 4 and 6; a1's 2 and 3 are gone with it, so a3 may hold two.
    a3.subscribe("7", sa);
    a3.subscribe("8", sa);
    await s.gql(RENAME, { id: sa, t: "once more" }, a.key);
    expect((await a3.next("7")).type).toBe("next");
    expect((await a3.next("8")).type).toBe("next");
    await Promise.all([a2, a3, b1].map((x) => x.close()));
  });
});

describe("who may read /metrics", () => {
  const kind = availableDatabaseKinds()[0]!;
  const eth = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

  it("tells loopback addresses from others", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
      expect(isLoopback(a), a).toBe(true);
    for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "192.168.1.127", "fe80::1", "", undefined])
      expect(isLoopback(a), String(a)).toBe(false);
  });

  describe("without a metrics token", () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, engine);
    });
    afterAll(() => s?.close());

    it("answers loopback clients, refuses requests relayed by a proxy with 403 METRICS_FORBIDDEN", async () => {
      const local = await fetch(`${s.url}/metrics`);
      expect(local.status).toBe(200);
      expect(await local.text()).toContain("padt_generation_queue_depth");
      const relayed = await fetch(`${s.url}/metrics`, {
        headers: { "x-forwarded-for": "203.0.113.9" },
      });
      expect(relayed.status).toBe(403);
      const body = (await relayed.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe("METRICS_FORBIDDEN");
    });

    it.runIf(eth)("refuses a client on another address with 403", async () => {
      const remote = await listenOn(s, eth!, {});
      try {
        const res = await fetch(`${remote.url}/metrics`);
        expect(res.status).toBe(403);
        expect(await res.text()).toContain("METRICS_FORBIDDEN");
      } finally {
        await remote.close();
      }
    });
  });

  it("with a metrics token: its bearers only, from anywhere (401 UNAUTHENTICATED otherwise)", async () => {
    const s = await startTestServer(kind, engine, { config: { metricsToken: "m-3cr3t" } });
    const remote = eth ? await listenOn(s, eth, { metricsToken: "m-3cr3t" }) : undefined;
    try {
      for (const url of [s.url, ...(remote ? [remote.url] : [])]) {
        for (const authorization of [undefined, "Bearer wrong", "Bearer m-3cr3"]) {
          const res = await fetch(`${url}/metrics`, {
            headers: authorization ? { authorization } : {},
          });
          expect(res.status, `${url} ${authorization}`).toBe(401);
          expect(await res.text()).toContain("UNAUTHENTICATED");
        }
        const ok = await fetch(`${url}/metrics`, {
          headers: { authorization: "Bearer m-3cr3t", "x-forwarded-for": "203.0.113.9" },
        });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toContain("padt_generation_queue_depth");
      }
    } finally {
      await remote?.close();
      await s.close();
    }
  });
});

/** A second gateway on the same database, listening on `host` (a non-loopback address). */
async function listenOn(
  s: TestServer,
  host: string,
  config: { metricsToken?: string },
): Promise<Gateway> {
  return startGateway({ engine, database: s.t.handle, localKey: false, port: 0, host, config });
}
