// The load bench's clients (issue 14), shared by load.mjs (one `padt serve`) and scaleout.mjs
// (gateway replicas + workers): each client has its own API key and keeps `inflight` sends
// going until the deadline; a send is a new session, sendMessage (REC, fixed maxNewTokens),
// then messageEvents until the answer ends. A refused send waits its retryAfterMs and retries.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { root } from "./processes.mjs";

const image = readFileSync(
  join(root, "tests/fixtures/padt-tiny-random.images/rec_200x150_0.png"),
).toString("base64");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
};

const gqlAt = (url) => async (key, query, variables) => {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
};

/**
 * Client c talks to urls[c % urls.length] (spread over the replicas). Resolves when every
 * send started before `seconds` ran out has ended, with the counts and `elapsedS`.
 */
export async function runClients({ urls, keys, seconds, inflight, tokens, hangMs }) {
  const stats = {
    accepted: 0,
    completed: 0,
    failedAfterAccept: {},
    hangs: 0,
    refusals: {},
    /** Per send refused at least once: the first hint, the wait until accepted, the tries. */
    retried: [],
    latencyMs: [],
    otherErrors: {},
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;

  async function send(gql, key, ws, imageId) {
    const session = (await gql(key, `mutation { createSession(input: {}) { id } }`)).data
      ?.createSession.id;
    let first;
    const hints = [];
    let tries = 0;
    let messageId;
    for (;;) {
      tries++;
      const r = await gql(
        key,
        `mutation($s: ID!, $i: ID!, $t: Int!) { sendMessage(input: { sessionId: $s,
          parts: [{ imageId: $i }], task: { rec: { expression: "red circle" } },
          options: { maxNewTokens: $t } }) { assistantMessage { id } } }`,
        { s: session, i: imageId, t: tokens },
      );
      if (!r.errors) {
        messageId = r.data.sendMessage.assistantMessage.id;
        break;
      }
      const { code, retryAfterMs } = r.errors[0].extensions ?? {};
      if (typeof retryAfterMs !== "number") {
        stats.otherErrors[code] = (stats.otherErrors[code] ?? 0) + 1;
        return;
      }
      stats.refusals[code] = (stats.refusals[code] ?? 0) + 1;
      first ??= { at: performance.now(), hint: retryAfterMs };
      hints.push([Math.round(performance.now() - first.at), retryAfterMs]);
      await sleep(retryAfterMs);
    }
    const acceptedAt = performance.now();
    stats.accepted++;
    if (first)
      stats.retried.push({ hint: first.hint, waited: acceptedAt - first.at, tries, hints });
    const last = await new Promise((resolve) => {
      let end;
      const timer = setTimeout(() => resolve({ __typename: "hang" }), hangMs);
      ws.subscribe(
        {
          query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
            __typename ... on MessageFailed { error { code } } } }`,
          variables: { m: messageId },
        },
        {
          next: (e) => {
            end = e.data?.messageEvents;
          },
          error: () => {
            clearTimeout(timer);
            resolve({ __typename: "subscription error" });
          },
          complete: () => {
            clearTimeout(timer);
            resolve(end);
          },
        },
      );
    });
    if (last?.__typename === "MessageCompleted") {
      stats.completed++;
      stats.latencyMs.push(performance.now() - acceptedAt);
    } else if (last?.__typename === "hang") {
      stats.hangs++;
    } else {
      const why = last?.error?.code ?? last?.__typename ?? "no final event";
      stats.failedAfterAccept[why] = (stats.failedAfterAccept[why] ?? 0) + 1;
    }
  }

  async function client(key, url) {
    const gql = gqlAt(url);
    const ws = createClient({
      url: `${url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    const imageId = (
      await gql(key, `mutation($b: String!) { uploadImage(input: { base64: $b }) { id } }`, {
        b: image,
      })
    ).data.uploadImage.id;
    const lane = async () => {
      while (performance.now() < deadline) await send(gql, key, ws, imageId);
    };
    await Promise.all(Array.from({ length: inflight }, lane));
    await ws.dispose();
  }

  await Promise.all(keys.map((key, c) => client(key, urls[c % urls.length])));
  return { ...stats, elapsedS: (performance.now() - started) / 1000 };
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const p = (xs, q, d = 0) => fmt(quantile(xs, q), d);
export const counts = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "0";
export const failedCount = (stats) =>
  Object.values(stats.failedAfterAccept).reduce((a, b) => a + b, 0);

/** The load table's header and one row of values for a run's stats. */
export function loadRow(stats) {
  // Observed wait: from a send's first refusal to its acceptance, retrying on each hint.
  const ratios = stats.retried.map((r) => r.waited / r.hint);
  const within = ratios.filter((x) => x >= 0.5 && x <= 2).length;
  const failed = failedCount(stats);
  const tries = stats.retried.map((r) => r.tries);
  const answerS = stats.latencyMs.map((ms) => ms / 1000);
  return [
    [
      "accepted",
      "completed",
      "accepted then failed",
      "hangs",
      "refused",
      "answer p50 / p95 (s)",
      "refused then accepted",
      "tries p50 / max",
      "first hint p50 (ms)",
      "observed wait p50 (ms)",
      "wait / hint p10 / p50 / p90 / max",
      "hint within 2x of the wait",
    ],
    [
      stats.accepted,
      stats.completed,
      failed ? `${failed} (${counts(stats.failedAfterAccept)})` : 0,
      stats.hangs,
      counts(stats.refusals),
      `${p(answerS, 0.5, 1)} / ${p(answerS, 0.95, 1)}`,
      stats.retried.length,
      `${p(tries, 0.5)} / ${fmt(Math.max(0, ...tries))}`,
      p(
        stats.retried.map((r) => r.hint),
        0.5,
      ),
      p(
        stats.retried.map((r) => r.waited),
        0.5,
      ),
      `${p(ratios, 0.1, 2)} / ${p(ratios, 0.5, 2)} / ${p(ratios, 0.9, 2)} / ${p(ratios, 1, 2)}`,
      ratios.length ? `${within} of ${ratios.length}` : "-",
    ],
  ];
}

export const markdownTable = (rows) =>
  [
    `| ${rows[0].join(" | ")} |`,
    `|${" --- |".repeat(rows[0].length)}`,
    ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
