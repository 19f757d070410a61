import { type EngineClient, isPadtError, PadtError, PadtErrorCode } from "@padt/engine";
import type { TaskOutcome, TaskRegistry } from "@padt/task-api";
import type { Bus } from "../bus.js";
import { loadHistory } from "../conversation/history.js";
import { buildConversation } from "../conversation/turns.js";
import type { Database } from "../db/database.js";
import { isDbError } from "../db/errors.js";
import { finishMessage, markStreaming, type Outcome } from "../db/repos/transitions.js";
import { classify, GatewayErrorCode } from "../errors.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";
import { AnswerBuilder } from "./answer.js";
import { handOff, storable, untilAborted } from "./engine_stream.js";
import type { GenerationJob, Running } from "./job.js";
import { recordGeneration } from "./run_metrics.js";
import type { Slot } from "./run_queue.js";
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
  let firstEvent = true;
  const writer = new EventWriter(db, ownerId, messageId, (seq) => {
    if (firstEvent) {
      firstEvent = false;
      metrics?.timeToFirstEvent.observe((performance.now() - started) / 1000);
    }
    bus.messages.publish(messageId, seq);
  });
  let answer = new AnswerBuilder([]);
  let outcome: Outcome;
  try {
    running.slot = await deps.acquire(signal);
    deps.onSlot();
    await markStreaming(db, ownerId, messageId);
    bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
    const history = await loadHistory(db, ownerId, job.sessionId);
    const conversation = await buildConversation(db, ownerId, history, tasks);
    answer = new AnswerBuilder(conversation.imageIds);
    if (signal.aborted) throw new PadtError(PadtErrorCode.GENERATION_CANCELLED, "cancelled");
    // A long session keeps its most recent turns that fit the context (the engine counts).
    const events = await handOff(deps.engine, conversation.turns, {
      ...job.options,
      trimHistory: true,
      signal,
    });
    for await (const raw of untilAborted(events, signal)) {
      const event = storable(raw);
      const touched = answer.add(event);
      if (event.type === "text") writer.text(event.text);
      else if (event.type === "vrt" && touched.object)
        writer.refStarted(answer.ref(touched.object));
      else if (event.type === "object" && touched.object)
        writer.refDecoded(answer.ref(touched.object));
      if (writer.error) throw writer.error;
    }
    await writer.flush();
    if (writer.error) throw writer.error;
    outcome =
      signal.aborted || answer.finishReason === "cancelled"
        ? { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null }
        : complete(tasks, job, answer);
  } catch (error) {
    await writer.flush();
    // A DbError from the message itself (finished elsewhere, session deleted) makes
    // finishMessage below refuse too, and nothing is written.
    if (signal.aborted || isPadtError(error, PadtErrorCode.GENERATION_CANCELLED)) {
      outcome = { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null };
    } else {
      const known = classify(error);
      const code = known?.code ?? GatewayErrorCode.INTERNAL_SERVER_ERROR;
      const message = known?.message ?? "The generation failed";
      if (!known) deps.logger?.error({ err: error, messageId }, "generation error");
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
  try {
    const { message } = await finishMessage(db, ownerId, messageId, outcome);
    bus.messages.publish(messageId, message.lastSeq);
    bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
  } catch (error) {
    if (!isDbError(error)) throw error;
  }
  recordGeneration(metrics, outcome.status, answer.usage);
}

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
