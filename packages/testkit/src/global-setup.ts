import { startLocalCluster } from "./local-cluster.js";

/**
 * Vitest global setup: when no server is named by TEST_DATABASE_URL, start a throw-away
 * cluster from local PostgreSQL binaries for the whole run; without binaries, tests fall
 * back to PGlite. Workers inherit the variable because they start after this runs.
 */
export default async function setup(): Promise<() => void> {
  if (process.env.TEST_DATABASE_URL) return () => {};
  let cluster: Awaited<ReturnType<typeof startLocalCluster>>;
  try {
    cluster = await startLocalCluster();
  } catch (error) {
    console.warn(`[testkit] local PostgreSQL did not start, using PGlite: ${String(error)}`);
    return () => {};
  }
  if (!cluster) return () => {};
  process.env.TEST_DATABASE_URL = cluster.url;
  return () => {
    delete process.env.TEST_DATABASE_URL;
    cluster?.stop();
  };
}
