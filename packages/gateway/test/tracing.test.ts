// The tracing pieces with the SDK's in-memory exporter: the answer's span tree built from a
// job's traceparent and an engine timeline, the GraphQL operation span (a real Apollo server),
// and the standard OTEL_* variables the 3.x SDK leaves to us. The whole path through the
// server, exported over OTLP from a child process, is tests/traces.e2e.test.ts.
import { ApolloServer, HeaderMap } from "@apollo/server";
import { ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { GenerationEvent } from "@padt/engine";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GenerationJob } from "../src/generation/job.js";
import { GenerationTrace } from "../src/generation/trace.js";
import { operationSpan, operationTraceparent, tracingPlugin } from "../src/server/trace_plugin.js";
import { contextOf, startTracing, traceparentOf, tracer } from "../src/server/tracing.js";
import { batchOptionsFromEnv, exporterFromEnv, samplerFromEnv } from "../src/server/tracing_env.js";

const job = (traceparent?: string): GenerationJob => ({
  ownerId: "o",
  sessionId: "s",
  messageId: "m",
  task: "rec",
  taskInput: null,
  options: null,
  ...(traceparent ? { traceparent } : {}),
});
const usage = { promptTokens: 10, completionTokens: 6, prefillMs: 5, decodeMs: 12, decoderMs: 2 };
const T = Date.UTC(2026, 0, 1);
const timeline = {
  prefill: { start: T, end: T + 5 },
  decode: { start: T + 5, end: T + 19 },
  decoder: [
    { object: 0, start: T + 8, end: T + 9 },
    { object: 1, start: T + 15, end: T + 16 },
  ],
};

async function* stream(events: GenerationEvent[], fail?: Error): AsyncGenerator<GenerationEvent> {
  for (const e of events) yield e;
  if (fail) throw fail;
}
async function drain(events: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of events);
}

describe("with no tracer provider registered (traces off)", () => {
  it("startTracing stays off without OTEL_EXPORTER_OTLP_ENDPOINT, registering nothing", async () => {
    expect(process.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const tracing = await startTracing();
    expect(tracing.enabled).toBe(false);
    expect(tracer().startSpan("x").isRecording()).toBe(false);
    await tracing.shutdown();
  });

  it("records nothing: no trace id for the metadata, no log fields, no traceparent", () => {
    const t = GenerationTrace.start(job());
    expect(t.traceId).toBeUndefined();
    expect(t.logFields()).toEqual({});
    expect(traceparentOf(tracer().startSpan("x"))).toBeUndefined();
    // A caller's trace context alone does not make the answer recorded.
    const t2 = GenerationTrace.start(
      job("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    );
    expect(t2.traceId).toBeUndefined();
  });
});

describe("with the in-memory exporter", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  beforeAll(() => {
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });
  beforeEach(() => exporter.reset());

  const spans = () => exporter.getFinishedSpans();
  const named = (name: string) => spans().filter((s) => s.name === name);
  const one = (name: string) => {
    const found = named(name);
    expect(found, name).toHaveLength(1);
    return found[0] as ReadableSpan;
  };
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  const ms = (s: ReadableSpan) => [
    hrTimeToMilliseconds(s.startTime),
    hrTimeToMilliseconds(s.endTime),
  ];

  it("a traceparent round-trips, and a malformed one starts a new trace", () => {
    const span = tracer().startSpan("parent");
    const header = traceparentOf(span) as string;
    expect(header).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(trace.getSpanContext(contextOf(header))).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      isRemote: true,
    });
    expect(contextOf("not-a-traceparent")).toBe(ROOT_CONTEXT);
    span.end();
  });

  it("builds the answer's tree under the job's parent, the engine stages with the engine's times", async () => {
    const request = tracer().startSpan("mutation SendMessage");
    const t = GenerationTrace.start(job(traceparentOf(request)));
    await t.span("padt.queue.wait", async () => {});
    await t.span("padt.db.append_event", async () => {});
    await drain(
      t.engine(
        stream([
          { type: "text", text: "a" },
          { type: "done", finishReason: "stop", usage, tokenIds: [], timeline },
        ]),
      ),
    );
    t.end({ status: "complete", parts: [], usage });
    request.end();

    const root = one("padt.generation");
    const traceId = request.spanContext().traceId;
    expect(t.traceId).toBe(traceId);
    expect(t.logFields()).toEqual({ trace_id: traceId, span_id: root.spanContext().spanId });
    expect(parentOf(root)).toBe(request.spanContext().spanId);
    expect(root.attributes).toMatchObject({
      "padt.message.id": "m",
      "padt.task": "rec",
      "padt.message.status": "complete",
      "padt.usage.completion_tokens": 6,
    });
    for (const s of spans()) expect(s.spanContext().traceId).toBe(traceId);
    const engine = one("padt.engine.generate");
    for (const name of ["padt.queue.wait", "padt.db.append_event", "padt.engine.generate"])
      expect(parentOf(one(name))).toBe(root.spanContext().spanId);
    const prefill = one("padt.engine.prefill");
    const decode = one("padt.engine.decode");
    expect(parentOf(prefill)).toBe(engine.spanContext().spanId);
    expect(parentOf(decode)).toBe(engine.spanContext().spanId);
    expect(ms(prefill)).toEqual([T, T + 5]);
    expect(ms(decode)).toEqual([T + 5, T + 19]);
    const decoder = named("padt.engine.decoder");
    expect(decoder.map((s) => [parentOf(s), s.attributes["padt.object.index"], ...ms(s)])).toEqual([
      [decode.spanContext().spanId, 0, T + 8, T + 9],
      [decode.spanContext().spanId, 1, T + 15, T + 16],
    ]);
  });

  it("a failed write, a failed engine and a failed answer are errors; a cancelled engine is not", async () => {
    const t = GenerationTrace.start(job());
    const refused = Object.assign(new Error("gone"), { code: "INVALID_STATE" });
    await expect(t.span("padt.db.finish_message", () => Promise.reject(refused))).rejects.toBe(
      refused,
    );
    const cancelled = Object.assign(new Error("stop"), { code: "GENERATION_CANCELLED" });
    await expect(drain(t.engine(stream([], cancelled)))).rejects.toBe(cancelled);
    // A job stopped while it waits: the runner aborts with its StopReason.
    await expect(t.span("padt.queue.wait", () => Promise.reject("abandoned"))).rejects.toBe(
      "abandoned",
    );
    t.end({ status: "failed", error: { code: "ENGINE_FAILED", message: "x" } });

    const write = one("padt.db.finish_message");
    expect(write.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "INVALID_STATE" });
    expect(write.events.map((e) => e.name)).toEqual(["exception"]);
    const engine = one("padt.engine.generate");
    expect(engine.status.code).toBe(SpanStatusCode.UNSET);
    expect(engine.attributes["padt.cancelled"]).toBe(true);
    const wait = one("padt.queue.wait");
    expect(wait.status.code).toBe(SpanStatusCode.UNSET);
    expect(wait.attributes["padt.stop_reason"]).toBe("abandoned");
    expect(one("padt.generation").status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: "ENGINE_FAILED",
    });
  });

  it("names a GraphQL operation's span by type and name, follows a traceparent header, records errors", async () => {
    let seen: { traceparent?: string } = {};
    const apollo = new ApolloServer<{ id: number }>({
      typeDefs: "type Query { ok: Boolean, bad: Boolean }",
      resolvers: {
        Query: {
          ok: (_: unknown, __: unknown, ctx: object) => {
            seen = operationTraceparent(ctx);
            return operationSpan(ctx) !== undefined;
          },
          bad: () => {
            throw new Error("no");
          },
        },
      },
      plugins: [tracingPlugin()],
    });
    await apollo.start();
    const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const http = {
      method: "POST",
      search: "",
      body: {},
      headers: new HeaderMap([["traceparent", caller]]),
    };
    const ok = await apollo.executeOperation(
      { query: "query Ok { ok }", http },
      { contextValue: { id: 1 } },
    );
    expect(ok.body).toMatchObject({ singleResult: { data: { ok: true } } });
    await apollo.executeOperation({ query: "{ bad }" }, { contextValue: { id: 2 } });
    await apollo.stop();

    const query = one("query Ok");
    expect(query.attributes).toEqual({
      "graphql.operation.type": "query",
      "graphql.operation.name": "Ok",
    });
    expect(query.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(parentOf(query)).toBe("00f067aa0ba902b7");
    // What a resolver hands on (sendMessage to its answer) names this span.
    expect(seen.traceparent).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${query.spanContext().spanId}-01`,
    );
    const failed = one("query");
    expect(failed.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: "INTERNAL_SERVER_ERROR",
    });
    expect(failed.events).toHaveLength(1);
  });
});

describe("OTEL_* variables the SDK no longer reads itself", () => {
  it("OTEL_TRACES_SAMPLER and its argument choose the sampler", () => {
    expect(samplerFromEnv({}).toString()).toBe(
      new ParentBasedSampler({ root: new AlwaysOnSampler() }).toString(),
    );
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: "always_off" }).toString()).toBe(
      "AlwaysOffSampler",
    );
    expect(
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      }).toString(),
    ).toBe(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.25) }).toString());
  });

  it("OTEL_EXPORTER_OTLP_PROTOCOL picks JSON or protobuf over HTTP and refuses grpc", async () => {
    const json = await exporterFromEnv({});
    const protobuf = await exporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" });
    expect(json).toBeInstanceOf(JsonExporter);
    expect(protobuf).toBeInstanceOf(ProtobufExporter);
    await Promise.all([json.shutdown(), protobuf.shutdown()]);
    await expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/,
    );
  });

  it("OTEL_BSP_* set the batch processor; bad values are left to its defaults", () => {
    expect(
      batchOptionsFromEnv({
        OTEL_BSP_SCHEDULE_DELAY: "200",
        OTEL_BSP_MAX_QUEUE_SIZE: "-1",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "many",
      }),
    ).toEqual({ scheduledDelayMillis: 200 });
  });
});
