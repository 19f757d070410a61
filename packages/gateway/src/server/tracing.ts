import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/** The instrumentation scope of every span the gateway makes. */
export const TRACER_NAME = "@padt/gateway";

/** The global tracer: the API's no-op one unless startTracing (or the operator's own SDK) registered a provider. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

// Used directly rather than through the global propagator, so a job's traceparent means the
// same whoever set up the SDK (or none).
const w3c = new W3CTraceContextPropagator();

/**
 * The W3C `traceparent` of `span`, what a job carries to wherever it runs (a worker thread now,
 * a worker process later); undefined for a span that is not recorded, so nothing is carried
 * when tracing is off.
 */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!span?.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** The parent context a `traceparent` names; the root context when there is none (or it is malformed). */
export function contextOf(traceparent: string | undefined | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** The caller's trace context from request headers (`traceparent`, `tracestate`). */
export function contextFromHeaders<H>(headers: H | undefined, getter: TextMapGetter<H>): Context {
  return headers === undefined ? ROOT_CONTEXT : w3c.extract(ROOT_CONTEXT, headers, getter);
}

export interface Tracing {
  /** Whether spans are exported (an OTLP endpoint is configured). */
  readonly enabled: boolean;
  /** Exports what is still buffered and stops; call last, after the server has drained. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => {} };

/**
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set;
 * then a tracer provider with a batching OTLP/HTTP exporter (JSON, or protobuf when
 * OTEL_EXPORTER_OTLP_PROTOCOL says so; grpc is refused) is registered globally. The
 * exporter reads its own OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression), the
 * resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the sampler and the batch sizes come
 * from OTEL_TRACES_SAMPLER(_ARG) and OTEL_BSP_* (tracing_env.ts). `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` keeps it off. Off, the SDK is not even loaded: the API's no-op
 * tracer is all that runs. A provider someone registered before (a preloaded distro) is kept.
 */
export async function startTracing(): Promise<Tracing> {
  // process.env, not a parameter: the exporter and the resource detector read it themselves.
  const env = process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none")
    return OFF;
  const [sdk, resources, { batchOptionsFromEnv, exporterFromEnv, samplerFromEnv }] =
    await Promise.all([
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/resources"),
      import("./tracing_env.js"),
    ]);
  const exporter = await exporterFromEnv(env);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": "padt-gateway" }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over our default name.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.TracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter,
        ...batchOptionsFromEnv(env),
      }),
    ],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    await provider.shutdown();
    return OFF;
  }
  return {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
