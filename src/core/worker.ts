/**
 * A worker thread of the gradient core (built to dist/core/worker.js). It gets the compiled kernel
 * module, the shared memory, the network and the layout sizes in workerData, plans the network and
 * computes the layout as the main thread did, instantiates its own copy of the kernels over the
 * same memory, says "ready", then loops: wait for a job (sync.ts), run its share (thread.ts),
 * count itself done. It never posts messages on the hot path.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { planNetwork } from '../nn/plan.ts';
import { instantiate } from './kernels.ts';
import { computeLayout, type LayoutInput } from './layout.ts';
import { Control, JOB, W } from './sync.ts';
import { ThreadRunner } from './thread.ts';

export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  network: NetworkSpec;
  /** The layout's inputs other than the plan (which the worker makes from `network`). */
  sizes: Omit<LayoutInput, 'plan'>;
  thread: number;
}

const data = workerData as WorkerData;
const plan = planNetwork(data.network);
const layout = computeLayout({ ...data.sizes, plan });
const control = new Control(data.memory, layout.control);
const runner = new ThreadRunner(instantiate(data.module, data.memory), plan, layout, data.memory, control, data.thread);

// However this thread ends (process.exit, the end of its loop, a fatal error that still runs exit
// handlers), the main thread must see it rather than wait for a job that will never be done.
process.on('exit', () => {
  Atomics.store(control.words, W.EXITED + data.thread, 1);
  Atomics.notify(control.words, W.DONE);
});

// Read the epoch before saying ready: the main thread publishes its first job only after that.
let seen = Atomics.load(control.words, W.EPOCH);
parentPort!.postMessage('ready');
for (;;) {
  seen = control.waitForJob(seen);
  if (control.words[W.JOB] === JOB.QUIT) break;
  try {
    runner.runPublished();
  } catch (err) {
    control.reportFailure(data.thread, err);
  }
  control.finishJob(data.thread, seen);
}
