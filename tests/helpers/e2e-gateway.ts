// The set-up every cross-package end-to-end test shares: a real database of one kind, the
// gateway on a free loopback port with a given engine, one owner and key, and a GraphQL client.
// bench/gateway/lib/in_process.mjs starts the same kind of gateway for the benches and stays
// apart on purpose (why: the comment at its top); neither imports the other.
import type { EngineClient } from "@padt/engine";
import {
  connect,
  createApiKey,
  createOwner,
  type Gateway,
  type GatewayConfigInput,
  migrate,
  startGateway,
} from "@padt/gateway";
import { createTestDatabase, type DatabaseKind } from "@padt/testkit";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

export type Body = {
  // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field.
  data?: Record<string, any>;
  errors?: { message: string; extensions?: { code?: string } }[];
};

export interface E2eGateway {
  gateway: Gateway;
  key: string;
  gql(query: string, variables?: Record<string, unknown>): Promise<Body>;
  /** Every result of a subscription over graphql-ws, once the server completes it. */
  subscribe(query: string, variables: Record<string, unknown>): Promise<Body[]>;
  close(): Promise<void>;
}

export async function startE2eGateway(
  kind: DatabaseKind,
  engine: EngineClient,
  config?: GatewayConfigInput,
): Promise<E2eGateway> {
  const db = await createTestDatabase(kind);
  const handle = await connect(db.kind === "postgres" ? { url: db.url } : { pglite: db.client });
  await migrate(handle);
  const gateway = await startGateway({
    engine,
    database: handle,
    localKey: false,
    port: 0,
    host: "127.0.0.1",
    ...(config ? { config } : {}),
  });
  const owner = await createOwner(handle.db, `e2e-${kind}`);
  const { key } = await createApiKey(handle.db, owner.id);
  return {
    gateway,
    key,
    gql: graphqlOver(gateway.url, key),
    subscribe: subscriptionOver(gateway.url, key),
    async close() {
      await gateway.close();
      await db.drop();
    },
  };
}

/** POSTs GraphQL to `<url>/graphql` with the key as a bearer token. */
export function graphqlOver(url: string, key: string): E2eGateway["gql"] {
  return async (query, variables) => {
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as Body;
  };
}

/** Subscribes over graphql-ws at `<url>/graphql` with the key in the connection params. */
export function subscriptionOver(url: string, key: string): E2eGateway["subscribe"] {
  return (query, variables) =>
    new Promise<Body[]>((resolve, reject) => {
      const client = createClient({
        url: `${url.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
      });
      const out: Body[] = [];
      client.subscribe(
        { query, variables },
        {
          next: (r) => out.push(r as Body),
          error: (e) => {
            void client.dispose();
            reject(e);
          },
          complete: () => {
            void client.dispose();
            resolve(out);
          },
        },
      );
    });
}
