/**
 * The control block: how the main thread hands a job to the workers and learns that they are done,
 * through Atomics on shared memory (no postMessage on the hot path).
 *
 * Protocol, one job at a time:
 *   main     writes JOB and ARGS, sets DONE = 0, increments EPOCH, notifies EPOCH; runs its own
 *            share of the job; waits until DONE = number of workers.
 *   worker   waits until EPOCH changes (spins a while, then sleeps in Atomics.wait); runs its share;
 *            increments DONE and notifies it. A worker whose share throws records the first failure
 *            (FAILED, and the message in the block) and still counts itself done, so nobody hangs.
 *            A worker thread that exits sets its EXITED word on the way out.
 * Waking a sleeping thread costs 50-70 us in this VM and a job can last well under a millisecond,
 * so both sides spin briefly before sleeping. The main thread sleeps in short timed waits so that
 * it can notice a failed, dead or stuck worker and throw instead of hanging.
 */

/** Word indices in the Int32 view of the control block. */
export const W = {
  EPOCH: 0,
  DONE: 1,
  /** 0, or 1 + the index of the first thread that failed. */
  FAILED: 2,
  JOB: 3,
  ARGS: 4, // 4 words used
  MESSAGE_LENGTH: 15,
  /** One word per thread: 1 once the thread has exited. */
  EXITED: 16,
  /** One word per thread: the epoch of the last job it finished. */
  FINISHED: 16 + 64,
} as const;

export const MAX_THREADS = 64;
const MESSAGE_OFFSET = 1024;
const MESSAGE_BYTES = 3072;

export const JOB = {
  FORWARD: 1,
  BACKWARD: 2,
  NORM: 3,
  UPDATE: 4,
  NOOP: 6,
  QUIT: 7,
} as const;

/**
 * How long a waiting thread spins before it sleeps, in milliseconds: long enough to cover the gaps
 * inside a training step (the calling thread's small layers and loss, ~0.1 ms), short enough not
 * to steal much from other processes when the cores are shared.
 */
export const SPIN_MS = 0.2;

export class Control {
  readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(memory: WebAssembly.Memory, offset: number) {
    this.words = new Int32Array(memory.buffer, offset, MESSAGE_OFFSET / 4);
    this.bytes = new Uint8Array(memory.buffer, offset + MESSAGE_OFFSET, MESSAGE_BYTES);
  }

  /** Records the failure of `thread` unless another thread failed first. */
  reportFailure(thread: number, err: unknown): void {
    if (Atomics.compareExchange(this.words, W.FAILED, 0, thread + 1) !== 0) return;
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const encoded = new TextEncoder().encode(text).subarray(0, MESSAGE_BYTES);
    this.bytes.set(encoded);
    Atomics.store(this.words, W.MESSAGE_LENGTH, encoded.length);
  }

  /** The failed thread and its message, or null. */
  failure(): { thread: number; message: string } | null {
    const failed = Atomics.load(this.words, W.FAILED);
    if (failed === 0) return null;
    const length = Atomics.load(this.words, W.MESSAGE_LENGTH);
    return { thread: failed - 1, message: new TextDecoder().decode(this.bytes.slice(0, length)) };
  }

  /** Worker side: waits for the next epoch after `seen` and returns it. */
  waitForJob(seen: number): number {
    const words = this.words;
    const spinUntil = performance.now() + SPIN_MS;
    for (let spins = 1; ; spins++) {
      const epoch = Atomics.load(words, W.EPOCH);
      if (epoch !== seen) return epoch;
      if ((spins & 255) === 0 && performance.now() > spinUntil) Atomics.wait(words, W.EPOCH, seen);
    }
  }

  /** Worker side: marks the job of `epoch` done by `thread`. */
  finishJob(thread: number, epoch: number): void {
    Atomics.store(this.words, W.FINISHED + thread, epoch);
    Atomics.add(this.words, W.DONE, 1);
    Atomics.notify(this.words, W.DONE);
  }

  /** Main side: publishes a job; returns its epoch. */
  publish(job: number, a0: number, a1: number, a2: number, a3: number): number {
    const words = this.words;
    words[W.JOB] = job;
    words[W.ARGS] = a0;
    words[W.ARGS + 1] = a1;
    words[W.ARGS + 2] = a2;
    words[W.ARGS + 3] = a3;
    Atomics.store(words, W.DONE, 0);
    const epoch = Atomics.add(words, W.EPOCH, 1) + 1;
    Atomics.notify(words, W.EPOCH);
    return epoch;
  }

  /**
   * Main side: waits until `workers` threads have finished the current job. Returns null when they
   * have, else why not: a failure, a dead worker, or the deadline passing.
   */
  waitForWorkers(workers: number, epoch: number, timeoutMs: number): string | null {
    const words = this.words;
    const spinUntil = performance.now() + SPIN_MS;
    for (let spins = 1; ; spins++) {
      if (Atomics.load(words, W.DONE) === workers) return this.failureText();
      if ((spins & 255) === 0 && performance.now() > spinUntil) break;
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(words, W.DONE);
      if (done === workers) return this.failureText();
      const failed = this.failureText();
      if (failed) return failed;
      for (let t = 1; t <= workers; t++) {
        if (Atomics.load(words, W.EXITED + t) !== 0) return `worker ${t} exited`;
      }
      if (performance.now() > deadline) {
        const stuck: number[] = [];
        for (let t = 1; t <= workers; t++) if (Atomics.load(words, W.FINISHED + t) !== epoch) stuck.push(t);
        return `worker ${stuck.join(', ')} did not finish a job within ${timeoutMs} ms`;
      }
      Atomics.wait(words, W.DONE, done, 20);
    }
  }

  private failureText(): string | null {
    const f = this.failure();
    return f ? `${f.thread === 0 ? 'the main thread' : `worker ${f.thread}`} failed: ${f.message}` : null;
  }
}
