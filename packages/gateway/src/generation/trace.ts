import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import type { GenerationEvent, Usage } from "@padt/engine";
import { ErrorCode } from "@padt/protocol";
import type { Outcome } from "../db/repos/transitions.js";
import { contextOf, tracer } from "../server/tracing.js";
import type { GenerationJob } from "./job.js";

type Timeline = NonNullable<Extract<GenerationEvent, { type: "done" }>["timeline"]>;

/** Runs `run` inside a child span named `name` of the answer's span. */
export type Traced = <T>(name: string, run: () => Promise<T>) => Promise<T>;

function fail(span: Span, error: unknown): void {
  // A job's abort reason is its StopReason ("cancelled", "abandoned", "shutdown"), a string.
  if (typeof error === "string") {
    span.setAttribute("padt.stop_reason", error);
    return;
  }
  const code = (error as { code?: unknown } | null)?.code;
  const name = typeof code === "string" ? code : error instanceof Error ? error.name : "Error";
  // Cancelling is how a user stops an answer, not a failure of the span that it ends.
  if (name === ErrorCode.GENERATION_CANCELLED) {
    span.setAttribute("padt.cancelled", true);
    return;
  }
  span.recordException({ name, message: error instanceof Error ? error.message : String(error) });
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
}

function usageAttributes(usage: Usage): Attributes {
  return {
    "padt.usage.prompt_tokens": usage.promptTokens,
    "padt.usage.completion_tokens": usage.completionTokens,
  };
}

/**
 * The spans of one answer, from its place in the run queue to its final write, under one span
 * (`padt.generation`) that is a child of the span whose traceparent the job carries (the
 * sendMessage operation's), so one trace runs from the mutation to the last event. Built from
 * the job alone, so it works wherever the job runs: in this process now, in a worker process
 * once jobs travel through the database queue (the job's traceparent goes with it).
 *
 * The engine's stages run on a worker thread that has no tracing SDK: the engine reports when
 * each ran (its done event's timeline) and they become spans here, with those times.
 */
export class GenerationTrace {
  readonly #root: Span;
  readonly #context: Context;
  /** Asked once: a span stops recording when it ends. */
  readonly #recorded: boolean;

  private constructor(root: Span) {
    this.#root = root;
    this.#context = trace.setSpan(contextOf(null), root);
    this.#recorded = root.isRecording();
  }

  static start(job: GenerationJob): GenerationTrace {
    const root = tracer().startSpan(
      "padt.generation",
      {
        attributes: {
          "padt.message.id": job.messageId,
          "padt.session.id": job.sessionId,
          ...(job.task ? { "padt.task": job.task } : {}),
        },
      },
      contextOf(job.traceparent),
    );
    return new GenerationTrace(root);
  }

  /** The trace id when this answer's spans are recorded (an exporter is set up). */
  get traceId(): string | undefined {
    return this.#recorded ? this.#root.spanContext().traceId : undefined;
  }

  /** Fields for the answer's log lines (OpenTelemetry's names for them in logs). */
  logFields(): { trace_id?: string; span_id?: string } {
    if (!this.#recorded) return {};
    const { traceId, spanId } = this.#root.spanContext();
    return { trace_id: traceId, span_id: spanId };
  }

  readonly span: Traced = async (name, run) => {
    const kind = name.startsWith("padt.db.") ? SpanKind.CLIENT : SpanKind.INTERNAL;
    const span = tracer().startSpan(name, { kind }, this.#context);
    try {
      return await run();
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  };

  /**
   * The engine's events, passed through, inside a `padt.engine.generate` span from now until
   * they end; its done event's timeline adds the prefill, decode and decoder spans.
   */
  engine<T extends GenerationEvent>(events: AsyncIterable<T>): AsyncIterable<T> {
    const span = tracer().startSpan("padt.engine.generate", {}, this.#context);
    return observeEngine(events, span, trace.setSpan(this.#context, span));
  }

  /** Ends the answer's span with the outcome that was stored. */
  end(outcome: Outcome): void {
    this.#root.setAttribute("padt.message.status", outcome.status);
    if (outcome.usage) this.#root.setAttributes(usageAttributes(outcome.usage));
    if (outcome.status === "failed")
      this.#root.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.code });
    this.#root.end();
  }
}

async function* observeEngine<T extends GenerationEvent>(
  events: AsyncIterable<T>,
  span: Span,
  parent: Context,
): AsyncGenerator<T> {
  try {
    for await (const event of events) {
      if (event.type === "done") {
        span.setAttributes(usageAttributes(event.usage));
        span.setAttribute("padt.finish_reason", event.finishReason);
        if (event.timeline) recordTimeline(event.timeline, parent);
      }
      yield event;
    }
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The engine's measured stages as spans with their own times: decoder calls inside decode. */
export function recordTimeline(timeline: Timeline, parent: Context): void {
  const t = tracer();
  const at = millisToHrTime;
  t.startSpan("padt.engine.prefill", { startTime: at(timeline.prefill.start) }, parent).end(
    at(timeline.prefill.end),
  );
  const decode = t.startSpan(
    "padt.engine.decode",
    { startTime: at(timeline.decode.start) },
    parent,
  );
  const inDecode = trace.setSpan(parent, decode);
  for (const call of timeline.decoder) {
    t.startSpan(
      "padt.engine.decoder",
      { startTime: at(call.start), attributes: { "padt.object.index": call.object } },
      inDecode,
    ).end(at(call.end));
  }
  decode.end(at(timeline.decode.end));
}
