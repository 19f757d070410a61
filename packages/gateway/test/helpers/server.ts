import type { EngineClient } from "@padt/engine";
import type { DatabaseKind } from "@padt/testkit";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  createApiKey,
  createOwner,
  type Gateway,
  type GatewayConfigInput,
  startGateway,
} from "../../src/index.js";
import { type OpenDatabase, openDatabase } from "./database.js";

export interface TestServer {
  gateway: Gateway;
  url: string;
  t: OpenDatabase;
  /** A new owner and API key. */
  newKey(name?: string): Promise<{ key: string; ownerId: string }>;
  gql(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: GqlBody }>;
  ws(key: string | null): Client;
  close(): Promise<void>;
}

export type GqlBody = {
  // biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field.
  data?: any;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
};

/** Small limits, so each refusal is cheap to provoke. */
export const TEST_LIMITS = {
  bodyBytes: 256 * 1024,
  imageBytes: 96 * 1024,
  imagePixels: 1_000_000,
  textLength: 200,
  partsPerMessage: 4,
  queryDepth: 10,
  queryAliases: 5,
  subscriptionsPerSocket: 3,
} as const;

/** The gateway on a real database and listening on loopback, serving `engine` (the test file's). */
export async function startTestServer(
  kind: DatabaseKind,
  engine: EngineClient,
  options: { config?: GatewayConfigInput } = {},
): Promise<TestServer> {
  const t = await openDatabase(kind);
  const gateway = await startGateway({
    engine,
    database: t.handle,
    localKey: false,
    port: 0,
    host: "127.0.0.1",
    config: {
      cancelGraceMs: 200,
      drainMs: 500,
      ...options.config,
      limits: { ...TEST_LIMITS, ...options.config?.limits },
    },
  });
  const clients: Client[] = [];
  const url = gateway.url;
  let counter = 0;
  return {
    gateway,
    url,
    t,
    async newKey(name = "owner") {
      counter += 1;
      const owner = await createOwner(t.db, `${name}-${counter}`);
      const { key } = await createApiKey(t.db, owner.id);
      return { key, ownerId: owner.id };
    },
    async gql(query, variables, key, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlBody };
    },
    ws(key) {
      const client = createClient({
        url: `${url.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await gateway.close();
      await t.close();
    },
  };
}

/** Runs one operation on a graphql-ws client and collects what it yields until it ends. */
export function collect(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  options: { take?: number } = {},
): Promise<{ results: GqlBody[]; error?: unknown }> {
  return new Promise((resolve) => {
    const results: GqlBody[] = [];
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (value) => {
          results.push(value as GqlBody);
          if (options.take && results.length >= options.take) {
            unsubscribe();
            resolve({ results });
          }
        },
        error: (error) => resolve({ results, error }),
        complete: () => resolve({ results }),
      },
    );
  });
}
