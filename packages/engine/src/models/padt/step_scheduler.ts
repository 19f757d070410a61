/**
 * Continuous batching of decode steps inside one model worker: every sequence that has
 * finished its prefill joins the batch, and one LLM call runs each member's next token. A
 * step runs once every member has asked for it (each sequence does its own sampling, VRT
 * tracking and decoder runs between steps); sequences join and leave between steps, each
 * with its own cache length, positions and prototypes. The batch's cache is one buffer per
 * layer input with room to grow, kept here: each step returns only the rows it appended, which
 * are written in at each member's length, while the membership holds; a join, a leave or a
 * full buffer re-assembles it.
 */
import type { TensorData } from "../../backend/ort.js";
import { appendRows, assembleCache, type CacheSource } from "./kv_batch.js";
import type { PadtModel } from "./model.js";

/** What a sequence brings to the batch after its own prefill. */
export interface Joining {
  /** Its prefill's present tensors (B = 1). */
  present: readonly TensorData[];
  /** Tokens in that cache. */
  length: number;
  /** [R, D] its images' prototypes, concatenated. */
  prototypes: Float32Array;
  /** [R] its VRT bias (0 on the current image's patches, -inf elsewhere). */
  vrtBias: Float32Array;
}

export interface SequenceStep {
  /** [V + R] logits over text rows then this sequence's own VRT rows. */
  logits: Float32Array;
  /** [D] final-norm hidden state. */
  lastHidden: Float32Array;
}

/** One member's handle: its decode steps, then leave() exactly once. */
export interface BatchMember {
  /** Feeds `token` at `position` ([3] M-RoPE position); resolves after the batch step. */
  step(token: number, position: ArrayLike<number>): Promise<SequenceStep>;
  leave(): void;
}

interface Request {
  token: number;
  position: ArrayLike<number>;
  resolve: (step: SequenceStep) => void;
  reject: (error: unknown) => void;
}

interface Member {
  length: number;
  rows: number;
  prototypes: Float32Array;
  vrtBias: Float32Array;
  /** Its prefill cache, until the first step it runs in moves it into the batch's. */
  own: readonly TensorData[] | undefined;
  request: Request | undefined;
}

export type BatchModel = Pick<PadtModel, "stepBatch" | "hidden" | "manifest">;

/**
 * Rows a cache buffer grows by: re-assembling it happens once per this many steps, and the
 * attention kernel copies the spare rows too each step (its past to its own present).
 */
const CACHE_GROWTH = 32;

interface Feeds {
  prototypes: Float32Array;
  vrtBias: Float32Array;
  /** P: the widest member's prototype rows. */
  width: number;
}

export class StepScheduler {
  readonly #members: Member[] = [];
  /** The members whose rows `#past` holds, in row order (the last step's batch). */
  #rows: Member[] = [];
  #past: TensorData[] = [];
  #feeds: Feeds | undefined;
  #changed = true;
  #running = false;
  #steps = 0;
  #tokens = 0;

  constructor(private readonly model: BatchModel) {}

  /** Sequences in the batch now. */
  get size(): number {
    return this.#members.length;
  }

  /** LLM calls run so far (each one a step of every member). */
  get steps(): number {
    return this.#steps;
  }

  /** Decode tokens those calls ran, over all members. */
  get tokens(): number {
    return this.#tokens;
  }

  /** A sequence counts as a member from its first step on (not while it samples its first token). */
  join(joining: Joining): BatchMember {
    const member: Member = {
      length: joining.length,
      rows: joining.vrtBias.length,
      prototypes: joining.prototypes,
      vrtBias: joining.vrtBias,
      own: joining.present,
      request: undefined,
    };
    let left = false;
    let joined = false;
    return {
      step: (token, position) =>
        new Promise<SequenceStep>((resolve, reject) => {
          if (left) throw new Error("a sequence stepped after it left the batch");
          if (!joined) {
            joined = true;
            this.#members.push(member);
            this.#changed = true;
          }
          member.request = { token, position, resolve, reject };
          this.#maybeRun();
        }),
      leave: () => {
        if (left) return;
        left = true;
        const at = this.#members.indexOf(member);
        if (at < 0) return;
        this.#members.splice(at, 1);
        member.request?.reject(new Error("left the batch"));
        member.request = undefined;
        member.own = undefined;
        this.#changed = true;
        // The others may all be waiting on this one.
        this.#maybeRun();
      },
    };
  }

  #maybeRun(): void {
    if (this.#running || this.#members.length === 0) return;
    if (!this.#members.every((m) => m.request)) return;
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
      // Joined during the run, with a step already asked for: start the next one.
      this.#maybeRun();
    });
  }

  async #run(): Promise<void> {
    const batch = this.#members.slice();
    const requests = batch.map((m) => m.request as Request);
    for (const m of batch) m.request = undefined;
    try {
      const longest = Math.max(...batch.map((m) => m.length));
      const room = (this.#past[0]?.dims[2] as number | undefined) ?? 0;
      if (this.#changed || longest + 1 > room) this.#regroup(batch);
      const feeds = this.#feeds as Feeds;
      const ids = new BigInt64Array(batch.length);
      const positions = new BigInt64Array(3 * batch.length);
      const lengths = new Int32Array(batch.length);
      batch.forEach((m, b) => {
        const r = requests[b] as Request;
        ids[b] = BigInt(r.token);
        for (let a = 0; a < 3; a++)
          positions[a * batch.length + b] = BigInt(r.position[a] as number);
        lengths[b] = m.length;
      });
      const out = await this.model.stepBatch(
        { ids, positions, lengths, prototypes: feeds.prototypes, vrtBias: feeds.vrtBias },
        this.#past,
      );
      appendRows(this.#past, out.appended, lengths);
      this.#steps++;
      this.#tokens += batch.length;
      const d = this.model.hidden;
      const V = this.model.manifest.llm.vocab_rows;
      const width = V + feeds.width;
      batch.forEach((m, b) => {
        m.length++;
        (requests[b] as Request).resolve({
          logits: out.logits.subarray(b * width, b * width + V + m.rows),
          lastHidden: out.hidden.subarray(b * d, (b + 1) * d),
        });
      });
    } catch (error) {
      // One call for all: a failed run fails every member of it (each leaves on its error).
      for (const r of requests) r.reject(error);
    }
  }

  /** The cache, prototypes and bias of a new membership, built from where each member is. */
  #regroup(batch: readonly Member[]): void {
    const sources: CacheSource[] = batch.map((m) => {
      const row = this.#rows.indexOf(m);
      return m.own || row < 0
        ? { tensors: m.own as readonly TensorData[], row: 0, length: m.length }
        : { tensors: this.#past, row, length: m.length };
    });
    const longest = Math.max(...batch.map((m) => m.length));
    this.#past = assembleCache(sources, longest + CACHE_GROWTH);
    for (const m of batch) m.own = undefined;
    this.#rows = batch.slice();
    const d = this.model.hidden;
    const width = Math.max(...batch.map((m) => m.rows));
    const prototypes = new Float32Array(batch.length * width * d);
    const vrtBias = new Float32Array(batch.length * width).fill(Number.NEGATIVE_INFINITY);
    batch.forEach((m, b) => {
      prototypes.set(m.prototypes, b * width * d);
      vrtBias.set(m.vrtBias, b * width);
    });
    this.#feeds = { prototypes, vrtBias, width };
    this.#changed = false;
  }
}
