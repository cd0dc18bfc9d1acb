/**
 * A pool of decoder processes: each runs decode-child.ts, i.e. its own Node and its own libvips.
 *
 * Why processes and not worker_threads: libvips is one library per process, with process-wide locks
 * and one thread pool; worker threads share all of it. Measured on 2 cores (`npm run bench:data --
 * --compare`, 200x200 JPEGs to 64x64): one process tops out near 1,100-1,400 images/s however many
 * images it decodes at once, and pays more CPU per image the more it runs at once (1.05 ms one at a
 * time, 1.24 ms four at a time: threads waiting on each other's locks); two worker threads in it do
 * no better; two processes reach about 1,750 images/s at 1.06 ms of CPU per image, parent included.
 *
 * The parent sends chunks of paths over the IPC channel (structured-clone serialization, so pixel
 * buffers travel as bytes, not JSON) and gets back one Uint8Array of (n, width * height * channels)
 * plus a failure reason per image. Each chunk goes to a process as soon as it is asked for (to the
 * one with the fewest outstanding), and each process decodes its chunks in the order received: the
 * processes keep working while this thread is busy elsewhere (nn-eval's forward pass), and the
 * caller bounds memory by bounding the chunks it has outstanding (decode-stream.ts).
 *
 * A process that dies (a libvips crash on a hostile file, an OOM kill) is replaced, and its images are
 * retried one at a time, each alone in a process, so that the file at fault is reported as skipped and
 * the rest decode. A script that cannot start at all makes decode() reject (the caller falls back).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesPerImage, type DecodeSettings } from './decode.ts';

/** Parent -> child: decode these files. */
export interface DecodeRequest {
  id: number;
  paths: string[];
  settings: DecodeSettings;
}

/** Child -> parent: pixels (n, D) with zeros where reasons[i] !== null (that image failed). */
export interface DecodeReply {
  id: number;
  pixels: Uint8Array;
  reasons: (string | null)[];
}

/** Child -> parent, once, when it is ready to decode (a process that dies before this could not start). */
export interface DecoderReady {
  ready: true;
}

export interface ChunkResult {
  pixels: Uint8Array;
  reasons: (string | null)[];
}

/** Replacement processes started over the pool's life before it gives up (the caller then decodes in-process). */
const MAX_RESPAWNS = 16;
/** Processes that died before being ready, in a row, after which the script is taken as broken. */
const MAX_START_FAILURES = 3;

/**
 * Path of the built decoder script, or null when there is none (running from TypeScript sources, as
 * in the tests, or before `npm run build`). In dist/ every module sits one folder below dist/, so the
 * script is at ../data/decode-child.js from whichever bundle file holds this code.
 */
export function builtDecoderScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (extname(here) !== '.js') return null;
  const script = join(dirname(here), '..', 'data', 'decode-child.js');
  return existsSync(script) ? script : null;
}

interface Job {
  id: number;
  paths: string[];
  settings: DecodeSettings;
  /** A retry after a crash: runs alone in its process, so that if the process dies, this image did it. */
  isolated: boolean;
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  child: ChildProcess;
  jobs: Map<number, Job>;
  alive: boolean;
  ready: boolean;
}

export class DecoderPool {
  private readonly slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 0;
  private respawns = 0;
  private startFailures = 0;
  private closed = false;

  /** Starts `processes` decoder processes running `script` (see builtDecoderScript). */
  constructor(
    private readonly script: string,
    readonly processes: number,
  ) {
    for (let i = 0; i < processes; i++) this.slots.push(this.spawn());
  }

  /** Process ids of the live decoders (benchmarks read their memory from /proc). */
  pids(): number[] {
    return this.slots.filter((s) => s.alive && s.child.pid !== undefined).map((s) => s.child.pid!);
  }

  /**
   * Decodes `paths` in one of the processes. Resolves with every image's bytes or failure reason;
   * rejects only when the pool is closed or no decoder process can be kept alive.
   */
  decode(paths: string[], settings: DecodeSettings): Promise<ChunkResult> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the decoder pool is closed'));
      this.queue.push({ id: this.nextId++, paths, settings, isolated: false, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the processes; outstanding chunks are rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue) job.reject(new Error('the decoder pool is closed'));
    this.queue = [];
    for (const slot of this.slots) {
      if (slot.alive) slot.child.kill();
    }
  }

  private spawn(): Slot {
    const child = fork(this.script, [], {
      serialization: 'advanced',
      execArgv: [], // not the parent's flags (a profiler, a test runner's loader)
      // One libuv thread: sharp runs one image at a time per process (the child reads files
      // synchronously, so nothing else needs the pool); more threads only contend for libvips' locks.
      // Must be set before the child's libuv pool starts, hence here, in its environment.
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, jobs: new Map(), alive: true, ready: false };
    child.on('message', (message: DecodeReply | DecoderReady) => {
      if ('ready' in message) {
        slot.ready = true;
        this.startFailures = 0;
        return;
      }
      const reply = message;
      const job = slot.jobs.get(reply.id);
      if (job === undefined) return;
      slot.jobs.delete(reply.id);
      job.resolve({ pixels: reply.pixels, reasons: reply.reasons });
      this.dispatch();
    });
    child.on('error', (err) => this.lost(slot, err.message));
    child.on('exit', (code, signal) => this.lost(slot, signal !== null ? `killed by ${signal}` : `exit code ${code}`));
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const isolated = this.queue[0]!.isolated;
      let best: Slot | null = null;
      for (const s of this.slots) {
        // An isolated retry runs alone in its process, and nothing joins it there.
        const room = isolated ? s.jobs.size === 0 : ![...s.jobs.values()].some((j) => j.isolated);
        if (s.alive && room && (best === null || s.jobs.size < best.jobs.size)) best = s;
      }
      if (best === null) break;
      const job = this.queue.shift()!;
      best.jobs.set(job.id, job);
      const request: DecodeRequest = { id: job.id, paths: job.paths, settings: job.settings };
      best.child.send(request);
    }
    if (this.queue.length > 0 && !this.slots.some((s) => s.alive)) {
      const err = new Error('no image decoder process could be kept running');
      for (const job of this.queue) job.reject(err);
      this.queue = [];
    }
  }

  /**
   * A process ended. Replace it (within limits), then deal with the chunks it held:
   *   - it never became ready: the chunks are re-queued as they were (no image is to blame);
   *   - it held one isolated image: that image crashed it, and is reported as skipped;
   *   - otherwise: each image is retried alone (isolated), to find the culprit among them.
   */
  private lost(slot: Slot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    const orphans = [...slot.jobs.values()];
    slot.jobs.clear();
    if (this.closed) {
      for (const job of orphans) job.reject(new Error('the decoder pool is closed'));
      return;
    }
    if (!slot.ready) this.startFailures++;
    if (this.respawns < MAX_RESPAWNS && this.startFailures < MAX_START_FAILURES) {
      this.respawns++;
      this.slots[this.slots.indexOf(slot)] = this.spawn();
    }
    const retries: Job[] = [];
    if (!slot.ready) {
      retries.push(...orphans);
    } else if (orphans.length === 1 && orphans[0]!.isolated) {
      const job = orphans[0]!;
      job.resolve({ pixels: new Uint8Array(bytesPerImage(job.settings) * job.paths.length), reasons: job.paths.map(() => `crashed the image decoder (${why})`) });
    } else {
      for (const job of orphans) {
        const singles = job.paths.map(
          (path) =>
            new Promise<ChunkResult>((resolve, reject) => {
              retries.push({ id: this.nextId++, paths: [path], settings: job.settings, isolated: true, resolve, reject });
            }),
        );
        Promise.all(singles).then((parts) => {
          const d = bytesPerImage(job.settings);
          const pixels = new Uint8Array(parts.length * d);
          parts.forEach((p, i) => pixels.set(p.pixels, i * d));
          job.resolve({ pixels, reasons: parts.map((p) => p.reasons[0]!) });
        }, job.reject);
      }
    }
    // Retries go first: the caller consumes results in order and is waiting for these.
    this.queue = [...retries, ...this.queue];
    this.dispatch();
  }
}
