import type { EngineClient } from "@padt/engine";
import { ErrorCode, isPadtError, PadtError } from "@padt/protocol";
import type { TaskOutcome, TaskRegistry } from "@padt/task-api";
import type { Bus } from "../bus.js";
import { loadHistory } from "../conversation/history.js";
import { buildConversation } from "../conversation/turns.js";
import type { Database } from "../db/database.js";
import { isDbError } from "../db/errors.js";
import { keepAnswerRecord } from "../db/repos/answer_record.js";
import { finishMessage, markStreaming, type Outcome } from "../db/repos/transitions.js";
import { classify } from "../errors.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";
import { AnswerBuilder } from "./answer.js";
import { handOff, storable, untilAborted } from "./engine_stream.js";
import type { GenerationJob, Running } from "./job.js";
import { recordGeneration } from "./run_metrics.js";
import type { Slot } from "./run_queue.js";
import { GenerationTrace } from "./trace.js";
import { EventWriter } from "./writer.js";

export interface ExecuteDeps {
  db: Database;
  engine: EngineClient;
  tasks: TaskRegistry;
  bus: Bus;
  metrics?: Metrics;
  logger?: Logger;
  /** Waits for a free engine worker (the runner's queue). */
  acquire(signal: AbortSignal): Promise<Slot>;
  /** The job got its worker (`running.slot` is set). */
  onSlot(): void;
  /** The lease the message gets when it starts streaming, ms (on a shared PostgreSQL). */
  leaseMs?: number;
  /** Ends a message given up at shutdown (RunnerOptions.handBack); unset: it ends CANCELLED. */
  handBack?(messageId: string): Promise<unknown>;
}

/**
 * One generation from its queue place to its final message: waits for a worker, marks the
 * message streaming, builds the conversation, streams and stores the engine's events, and
 * finishes the message COMPLETE (with the plugin's result), CANCELLED or FAILED, with the
 * answer as far as it got.
 */
export async function executeJob(deps: ExecuteDeps, running: Running): Promise<void> {
  const { db, tasks, bus, metrics } = deps;
  const { job, controller } = running;
  const { ownerId, messageId } = job;
  const signal = controller.signal;
  const started = performance.now();
  const trace = GenerationTrace.start(job);
  const logger = deps.logger?.child(trace.logFields());
  let firstEvent = true;
  const writer = new EventWriter(
    db,
    ownerId,
    messageId,
    (seq) => {
      if (firstEvent) {
        firstEvent = false;
        metrics?.timeToFirstEvent.observe((performance.now() - started) / 1000);
      }
      bus.messages.publish(messageId, seq);
    },
    trace.span,
  );
  let answer = new AnswerBuilder([]);
  let outcome: Outcome;
  try {
    running.slot = await trace.span("padt.queue.wait", () => deps.acquire(signal));
    deps.onSlot();
    // Both at once (the history leaves this answer out either way): one round trip less
    // before the engine starts, on a pool. Both settle before an error is thrown, so nothing
    // of this start is still running while the answer is finished.
    const [marked, loaded] = await Promise.allSettled([
      trace.span("padt.db.mark_streaming", () =>
        markStreaming(db, ownerId, messageId, deps.leaseMs ?? null),
      ),
      trace.span("padt.conversation.load", async () =>
        buildConversation(db, ownerId, await loadHistory(db, ownerId, job.sessionId), tasks),
      ),
    ]);
    if (marked.status === "rejected") throw marked.reason;
    bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
    if (loaded.status === "rejected") throw loaded.reason;
    const conversation = loaded.value;
    answer = new AnswerBuilder(conversation.imageIds);
    if (signal.aborted) throw new PadtError(ErrorCode.GENERATION_CANCELLED, "cancelled");
    // A long session keeps its most recent turns that fit the context (the engine counts).
    const events = await handOff(deps.engine, conversation.turns, {
      ...job.options,
      trimHistory: true,
      signal,
    });
    for await (const raw of trace.engine(untilAborted(events, signal))) {
      const event = storable(raw);
      const touched = answer.add(event);
      if (event.type === "text") writer.text(event.text);
      else if (event.type === "vrt" && touched.object)
        writer.refStarted(answer.ref(touched.object));
      else if (event.type === "object" && touched.object)
        writer.refDecoded(answer.ref(touched.object));
      if (writer.error) throw writer.error;
    }
    // What the writer still holds is stored with the end, in finishMessage's one statement.
    await writer.pause();
    if (writer.error) throw writer.error;
    outcome =
      signal.aborted || answer.finishReason === "cancelled"
        ? { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null }
        : complete(tasks, job, answer);
  } catch (error) {
    await writer.flush();
    // A DbError from the message itself (finished elsewhere, session deleted) makes
    // finishMessage below refuse too, and nothing is written. Finished elsewhere
    // (INVALID_STATE: cancelled through another replica before its stop signal arrived) is
    // this generation being cancelled.
    if (
      signal.aborted ||
      isPadtError(error, ErrorCode.GENERATION_CANCELLED) ||
      isDbError(error, ErrorCode.INVALID_STATE)
    ) {
      outcome = { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null };
    } else {
      const known = classify(error);
      const code = known?.code ?? ErrorCode.INTERNAL_SERVER_ERROR;
      const message = known?.message ?? "The generation failed";
      if (!known) logger?.error({ err: error, messageId }, "generation error");
      outcome = {
        status: "failed",
        error: { code, message },
        parts: answer.parts(),
        usage: answer.usage ?? null,
      };
    }
  }
  if (answer.trimmed) {
    const { droppedTurns, droppedImages, droppedRefs } = answer.trimmed;
    // One turn per history message (conversation/turns.ts).
    outcome.metadata = {
      historyTrim: { droppedMessages: droppedTurns, droppedImages, droppedRefs },
    };
  }
  if (trace.traceId) outcome.metadata = { ...outcome.metadata, traceId: trace.traceId };
  if (deps.handBack && signal.aborted && signal.reason === "shutdown") {
    await writer.flush(); // the recovery that ends it reads the stored events
    await handBack(deps, job, outcome);
    trace.end({ status: "failed", error: HANDED_BACK, parts: [] });
    logger?.info({ messageId, status: "interrupted" }, "generation handed back");
    recordGeneration(metrics, "interrupted", answer.usage);
    return;
  }
  try {
    const { message } = await trace.span("padt.db.finish_message", () =>
      finishMessage(db, ownerId, messageId, outcome, writer.takeQueued()),
    );
    bus.messages.publish(messageId, message.lastSeq);
    bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
  } catch (error) {
    if (!isDbError(error)) throw error;
  } finally {
    trace.end(outcome);
  }
  logger?.info({ messageId, status: outcome.status }, "generation finished");
  recordGeneration(metrics, outcome.status, answer.usage);
}

/**
 * Past the drain window: handed back rather than cancelled (nobody asked to stop it), by the
 * recovery that ends a dead worker's answer; its events are all stored (flushed above). What
 * only this process knows (history trim, trace, usage) is kept first, as a cancelled answer
 * keeps it; should that write fail, the answer is handed back all the same.
 */
async function handBack(deps: ExecuteDeps, job: GenerationJob, outcome: Outcome): Promise<void> {
  const record = { metadata: outcome.metadata ?? null, usage: outcome.usage ?? null };
  if (record.metadata || record.usage) {
    await keepAnswerRecord(deps.db, job.ownerId, job.messageId, record).catch((error) =>
      deps.logger?.warn({ err: error, messageId: job.messageId }, "answer record not kept"),
    );
  }
  await deps.handBack?.(job.messageId);
}

const HANDED_BACK = {
  code: ErrorCode.INTERRUPTED,
  message: "The worker stopped while this answer was being generated",
};

/** The plugin's reading of a finished answer; free chat stores no result (TextResult is derived). */
function complete(tasks: TaskRegistry, job: GenerationJob, answer: AnswerBuilder): Outcome {
  const generation = answer.result();
  let result: TaskOutcome<unknown> | null = null;
  if (job.task) {
    const plugin = tasks.get(job.task);
    const input = plugin.input.parse(job.taskInput);
    result = plugin.parse(generation, input);
  }
  return { status: "complete", parts: answer.parts(), result, usage: generation.usage };
}
