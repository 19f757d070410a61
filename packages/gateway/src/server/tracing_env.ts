import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type BatchSpanProcessorOptions,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";

// The tracing SDK's 3.x line no longer reads these standard variables itself (2.x did); the
// names and meanings are the OpenTelemetry specification's (SDK environment variables).

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; the default is parentbased_always_on. */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const ratio = () => {
    const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
    return env.OTEL_TRACES_SAMPLER_ARG && arg >= 0 && arg <= 1 ? arg : 1;
  };
  switch (env.OTEL_TRACES_SAMPLER) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio());
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const BSP = {
  scheduledDelayMillis: "OTEL_BSP_SCHEDULE_DELAY",
  exportTimeoutMillis: "OTEL_BSP_EXPORT_TIMEOUT",
  maxQueueSize: "OTEL_BSP_MAX_QUEUE_SIZE",
  maxExportBatchSize: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
} as const satisfies Partial<Record<keyof BatchSpanProcessorOptions, string>>;

/** The batch span processor's OTEL_BSP_* settings that are set (to a positive integer). */
export function batchOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): Partial<Pick<BatchSpanProcessorOptions, keyof typeof BSP>> {
  const options: Partial<Record<keyof typeof BSP, number>> = {};
  for (const [option, name] of Object.entries(BSP) as [keyof typeof BSP, string][]) {
    const value = Number(env[name]);
    if (env[name] && Number.isInteger(value) && value > 0) options[option] = value;
  }
  return options;
}

/**
 * The OTLP exporter that OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL names: `http/json` (the default
 * here, as in the SDK's HTTP exporter) or `http/protobuf`; anything else (`grpc`) is refused
 * rather than ignored. Either reads its endpoint, headers and timeout from the environment.
 */
export async function exporterFromEnv(env: NodeJS.ProcessEnv): Promise<SpanExporter> {
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (!protocol || protocol === "http/json")
    return new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter();
  if (protocol === "http/protobuf")
    return new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter();
  throw new Error(
    `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: traces are exported over OTLP/HTTP (http/json or http/protobuf, port 4318 on a collector)`,
  );
}
