/**
 * Continuous batching of decode steps inside one model worker: every sequence that has
 * finished its prefill joins the batch, and one LLM call runs each member's next token. A
 * step runs once every member has asked for it (each sequence does its own sampling, VRT
 * tracking and decoder runs between steps); sequences join and leave between steps, each
 * with its own cache length, positions and prototypes. The batch's cache is one buffer per
 * layer input with room to grow, kept here: each step returns only the rows it appended, which
 * are written in at each member's length, while the membership holds; a join or a full
 * buffer re-assembles it. A member that leaves leaves a hole: its row steps on as a dummy (one
 * token, cache length 0, its output unread) until the next re-assembly, or until holes are half
 * the rows, rather than every leave copying the whole cache.
 *
 * Newcomers are admitted (admit()) when their job reaches the worker, and their model calls
 * before the batch (image encodes, prefill chunks) go through the scheduler too, so one place
 * orders every call of the thread (the admission policy, SchedulerPolicy).
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
  /** performance.now() (this thread's) when the batch call began: a first step's is its decode start. */
  startedAt: number;
}

/**
 * How newcomers' calls are ordered against the batch's decode steps. "prefill-first": no decode
 * step runs while a newcomer is admitted and not yet in the batch, so a burst is encoded and
 * prefilled first and the batch then steps at its full size (vLLM's default order); a newcomer
 * mid-run stalls the members once, for its encode and prefill. "interleaved": the steps go on,
 * and at most one newcomer call (an image encode or a prefill chunk) runs between two of them.
 * Admissions are bounded by the pool's jobs per worker, so prefill-first cannot starve the batch.
 */
export type AdmissionOrder = "prefill-first" | "interleaved";

export interface SchedulerPolicy {
  admission: AdmissionOrder;
  /**
   * Prompt tokens per prefill call; 0: the whole prompt in one. A chunk is its own call (the
   * graph's attention takes one new length for every sequence of a call, so a chunk cannot
   * ride with the batch's one-token rows).
   */
  chunkTokens: number;
}

export const DEFAULT_POLICY: SchedulerPolicy = { admission: "prefill-first", chunkTokens: 0 };

/** A newcomer, from its job's arrival at the worker to its first decode step. */
export interface Admission {
  /** The scheduler's policy (generate reads chunkTokens). */
  readonly policy: SchedulerPolicy;
  /** Runs one model call of this newcomer (an image encode, a prefill chunk) when the policy lets it. */
  work<T>(call: () => Promise<T>): Promise<T>;
  /** Its batch handle; the admission ends when it asks for its first step. */
  join(joining: Joining): BatchMember;
  /** Ends the admission without joining (failed or cancelled before); safe to call again. */
  release(): void;
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
export const CACHE_GROWTH = 32;

interface Work {
  /** The admission's number: earlier newcomers' calls go first. */
  order: number;
  call: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Feeds {
  prototypes: Float32Array;
  vrtBias: Float32Array;
  /** P: the widest member's prototype rows. */
  width: number;
}

export class StepScheduler {
  readonly #members: Member[] = [];
  /** The members whose rows `#past` holds, in row order; undefined: a hole (one that left). */
  #rows: (Member | undefined)[] = [];
  #past: TensorData[] = [];
  #feeds: Feeds | undefined;
  #changed = true;
  #running = false;
  #steps = 0;
  #tokens = 0;
  #regroups = 0;
  readonly #work: Work[] = [];
  /** Admissions open: newcomers not yet in the batch. */
  #admitted = 0;
  #admissions = 0;
  #lastWasWork = false;
  readonly policy: SchedulerPolicy;

  constructor(
    private readonly model: BatchModel,
    policy: Partial<SchedulerPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    if (!Number.isInteger(this.policy.chunkTokens) || this.policy.chunkTokens < 0)
      throw new Error(
        `chunkTokens must be a non-negative integer (got ${this.policy.chunkTokens})`,
      );
  }

  /** Opens a newcomer's admission; its job has reached the worker. */
  admit(): Admission {
    const order = this.#admissions++;
    this.#admitted++;
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.#admitted--;
      this.#pump();
    };
    return {
      policy: this.policy,
      work: <T>(call: () => Promise<T>) =>
        new Promise<T>((resolve, reject) => {
          this.#work.push({ order, call, resolve: resolve as (v: unknown) => void, reject });
          this.#pump();
        }),
      join: (joining) => this.#join(joining, close),
      release: close,
    };
  }

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

  /** Times the batch's cache was re-assembled (a join, a full buffer, holes at half the rows). */
  get regroups(): number {
    return this.#regroups;
  }

  /** A sequence that was never admitted (a caller without a job queue): joins at once. */
  join(joining: Joining): BatchMember {
    return this.admit().join(joining);
  }

  /** A sequence counts as a member from its first step on (not while it samples its first token). */
  #join(joining: Joining, admitted: () => void): BatchMember {
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
          member.request = { token, position, resolve, reject };
          if (!joined) {
            joined = true;
            this.#members.push(member);
            this.#changed = true;
            admitted(); // pumps
          } else this.#pump();
        }),
      leave: () => {
        if (left) return;
        left = true;
        admitted();
        const at = this.#members.indexOf(member);
        if (at < 0) return;
        this.#members.splice(at, 1);
        member.request?.reject(new Error("left the batch"));
        member.request = undefined;
        member.own = undefined;
        const row = this.#rows.indexOf(member);
        if (row >= 0) this.#rows[row] = undefined;
        // The others may all be waiting on this one.
        this.#pump();
      },
    };
  }

  /** Starts the next call the policy allows, if none is running: a newcomer's, or a step. */
  #pump(): void {
    if (this.#running) return;
    const stepReady = this.#members.length > 0 && this.#members.every((m) => m.request);
    const interleaved = this.policy.admission === "interleaved";
    let next: Promise<void>;
    if (this.#work.length > 0 && !(stepReady && interleaved && this.#lastWasWork)) {
      next = this.#runWork();
      this.#lastWasWork = true;
    } else if (stepReady && (interleaved || this.#admitted === 0)) {
      next = this.#run();
      this.#lastWasWork = false;
    } else return;
    this.#running = true;
    void next.finally(() => {
      this.#running = false;
      this.#pump();
    });
  }

  async #runWork(): Promise<void> {
    let at = 0;
    this.#work.forEach((w, i) => {
      if (w.order < (this.#work[at] as Work).order) at = i;
    });
    const [work] = this.#work.splice(at, 1) as [Work];
    try {
      work.resolve(await work.call());
    } catch (error) {
      work.reject(error);
    }
  }

  async #run(): Promise<void> {
    const members = this.#members.slice();
    const requests = new Map(members.map((m) => [m, m.request as Request]));
    for (const m of members) m.request = undefined;
    const startedAt = performance.now();
    try {
      const longest = Math.max(...members.map((m) => m.length));
      const room = (this.#past[0]?.dims[2] as number | undefined) ?? 0;
      const holes = this.#rows.length - members.length;
      if (this.#changed || longest + 1 > room || 2 * holes >= this.#rows.length)
        this.#regroup(members);
      const rows = this.#rows;
      const feeds = this.#feeds as Feeds;
      const ids = new BigInt64Array(rows.length);
      const positions = new BigInt64Array(3 * rows.length);
      const lengths = new Int32Array(rows.length);
      rows.forEach((m, b) => {
        if (!m) return; // a hole: token 0 at position 0 over an empty cache
        const r = requests.get(m) as Request;
        ids[b] = BigInt(r.token);
        for (let a = 0; a < 3; a++)
          positions[a * rows.length + b] = BigInt(r.position[a] as number);
        lengths[b] = m.length;
      });
      const out = await this.model.stepBatch(
        { ids, positions, lengths, prototypes: feeds.prototypes, vrtBias: feeds.vrtBias },
        this.#past,
      );
      appendRows(this.#past, out.appended, lengths);
      this.#steps++;
      this.#tokens += members.length;
      const d = this.model.hidden;
      const V = this.model.manifest.llm.vocab_rows;
      const width = V + feeds.width;
      rows.forEach((m, b) => {
        if (!m) return;
        m.length++;
        (requests.get(m) as Request).resolve({
          logits: out.logits.subarray(b * width, b * width + V + m.rows),
          lastHidden: out.hidden.subarray(b * d, (b + 1) * d),
          startedAt,
        });
      });
    } catch (error) {
      // One call for all: a failed run fails every member of it (each leaves on its error).
      for (const r of requests.values()) r.reject(error);
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
    this.#regroups++;
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
