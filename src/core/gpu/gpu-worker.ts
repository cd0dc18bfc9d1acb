/**
 * The GPU thread (built to dist/core/gpu/gpu-worker.js): it owns the WebGPU device and the network's
 * buffers, and runs the commands the calling thread (gpu-core.ts) posts through shared memory
 * (protocol.ts). It waits with Atomics.waitAsync, so its event loop stays free for Dawn's callbacks
 * (buffer mappings), and it answers a training step once it is submitted: its loss comes back
 * through a ring of staging buffers, a few steps later.
 *
 * Shared memory never reaches Dawn: queue.writeBuffer of a view of a SharedArrayBuffer crashes the
 * process (webgpu 0.6.2), so every upload goes through one plain scratch buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planNetwork } from '../../nn/plan.ts';
import type { NetworkSpec } from '../../nn/layers/spec.ts';
import type { LossName } from '../../nn/losses.ts';
import { shapeSize } from '../../nn/shape.ts';
import { GRADIENT_OPTIMIZER_TYPES } from '../../optim/spec.ts';
import { ROW_WORDS, type HeldImages } from '../batch-rows.ts';
import { adapterInfo, loadWebgpu } from './adapter.ts';
import { GpuNetwork } from './gpu-network.ts';
import { heldImagesLayout, type GpuHeldImages } from './held-images.ts';
import { checkGpuMemory, describeShortfall } from './memory.ts';
import * as P from './protocol.ts';

export interface GpuWorkerData {
  network: NetworkSpec;
  maxBatch: number;
  loss: LossName;
  /** Seed of dropout's masks. */
  seed: number;
  shared: P.SharedArrays;
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 typings). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** The network's buffers at this batch exceed the adapter's limits (READY 3: the caller's error, not the GPU's). */
class TooBig extends Error {}

/** Staging buffers for losses in flight: the GPU thread waits for the oldest when all are busy. */
const RING = 8;


async function main(data: GpuWorkerData): Promise<void> {
  const loaded = await loadWebgpu();
  if ('missing' in loaded) throw new Error(loaded.missing);
  const gpu = loaded.module.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter found');
  const info = adapterInfo(adapter);
  const plan = planNetwork(data.network);
  // A batch whose buffers exceed the adapter's limits is refused before any buffer is made.
  const shortfall = checkGpuMemory(plan, data.maxBatch, adapter.limits);
  if (shortfall) throw new TooBig(describeShortfall(shortfall));
  const device = await adapter.requestDevice({
    // Ask for the adapter's own limits where a tensor is larger than the defaults (128 MiB per binding).
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  let lost: string | null = null;
  void device.lost.then((l) => {
    if (l.reason !== 'destroyed') lost = `the GPU device was lost: ${l.message || l.reason}`;
  });
  device.addEventListener('uncapturederror', (e) => {
    lost ??= `GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`;
  });
  const net = new GpuNetwork(device, plan, data.maxBatch, data.loss);
  const s = data.shared;
  const ctl = new Int32Array(s.control);
  const args = new Float64Array(s.control, P.ARGS_OFFSET, P.ARG_COUNT);
  const shared = {
    params: new Float32Array(s.params),
    grads: new Float32Array(s.grads),
    stats: new Float32Array(s.stats),
    state: [new Float32Array(s.state0), new Float32Array(s.state1)] as const,
    input: new Float32Array(s.input),
    labels: new Float32Array(s.labels),
    logits: new Float32Array(s.logits),
    rows: new Uint32Array(s.rows),
    losses: new Float64Array(s.losses),
  };
  const inputSize = shapeSize(plan.input);
  const scratch = new Float32Array(Math.max(plan.paramCount, plan.statCount, data.maxBatch * Math.max(inputSize, ROW_WORDS), 4));
  const scratchWords = new Uint32Array(scratch.buffer);
  /** The images kept on the GPU (HoldImages), or null while batches arrive as inputs. */
  let held: GpuHeldImages | null = null;
  /** The batch's input: its rows when images are held (the gather kernel forms it), else its values. */
  const uploadBatch = (B: number) => {
    if (held === null) return upload(net.input, shared.input, B * inputSize);
    scratchWords.set(shared.rows.subarray(0, B * ROW_WORDS));
    held.writeRows(scratchWords, B);
  };
  const upload = (target: GPUBuffer, from: Float32Array, count: number) => {
    if (count === 0) return;
    scratch.set(from.subarray(0, count));
    device.queue.writeBuffer(target, 0, scratch, 0, count);
  };
  const readBack = async (source: GPUBuffer, into: Float32Array, count: number) => {
    if (count === 0) return;
    const staging = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, staging, 0, count * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    into.set(new Float32Array(staging.getMappedRange(), 0, count));
    staging.unmap();
    staging.destroy();
  };
  const lossStaging = Array.from({ length: RING }, () => device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
  const inFlight: (Promise<void> | null)[] = new Array(RING).fill(null);
  const logitStaging = device.createBuffer({ size: Math.max(4, data.maxBatch) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const constants = new Float64Array(8);
  let trained = 0; // training steps submitted
  let failure: string | null = null;

  const uploads = (flags: number) => {
    if (flags & P.PARAMS) upload(net.params, shared.params, plan.paramCount);
    if (flags & P.STATS) upload(net.stats, shared.stats, plan.statCount);
    if (flags & P.STATE) for (let k = 0; k < 2; k++) upload(net.state[k], shared.state[k], plan.paramCount);
  };
  const stepArgs = (B: number) => {
    for (let i = 0; i < 8; i++) constants[i] = args[P.ARG_CONSTANTS + i]!;
    net.writeStep(B, constants, data.seed, ctl[P.STEP]!);
  };

  async function run(cmd: number, B: number, flags: number): Promise<boolean> {
    switch (cmd) {
      case P.Command.Train: {
        uploads(flags);
        uploadBatch(B);
        upload(net.labels, shared.labels, B);
        stepArgs(B);
        const slot = trained % RING;
        if (inFlight[slot]) await inFlight[slot]; // at most RING steps ahead of their losses
        const staging = lossStaging[slot]!;
        device.queue.submit([net.encodeTraining(B, true, staging)]);
        const index = trained++;
        inFlight[slot] = staging.mapAsync(GPUMapMode.READ).then(
          () => {
            const v = new Float32Array(staging.getMappedRange(), 0, 2);
            const k = 2 * (index % P.LOSS_RING);
            shared.losses[k] = v[0]!;
            shared.losses[k + 1] = v[1]!;
            staging.unmap();
            inFlight[slot] = null;
            Atomics.store(ctl, P.SETTLED, index + 1);
            Atomics.notify(ctl, P.SETTLED);
          },
          (err: Error) => {
            failure ??= lost ?? `reading a loss back failed: ${err.message}`;
            fail(failure);
          },
        );
        return true;
      }
      case P.Command.Gradient: {
        uploads(flags);
        uploadBatch(B);
        upload(net.labels, shared.labels, B);
        stepArgs(B);
        const staging = device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        device.queue.submit([net.encodeTraining(B, false, staging)]);
        await staging.mapAsync(GPUMapMode.READ);
        args[P.ARG_RESULT] = new Float32Array(staging.getMappedRange(), 0, 1)[0]!;
        staging.unmap();
        staging.destroy();
        return true;
      }
      case P.Command.Infer: {
        uploads(flags);
        uploadBatch(B);
        net.writeStep(B, constants, data.seed, 0);
        device.queue.submit([net.encodeInference(B, logitStaging)]);
        await logitStaging.mapAsync(GPUMapMode.READ, 0, B * 4);
        shared.logits.set(new Float32Array(logitStaging.getMappedRange(0, B * 4), 0, B));
        logitStaging.unmap();
        return true;
      }
      case P.Command.Download: {
        if (flags & P.PARAMS) await readBack(net.params, shared.params, plan.paramCount);
        if (flags & P.STATS) await readBack(net.stats, shared.stats, plan.statCount);
        if (flags & P.GRADS) await readBack(net.grads, shared.grads, plan.paramCount);
        if (flags & P.STATE) for (let k = 0; k < 2; k++) await readBack(net.state[k], shared.state[k], plan.paramCount);
        return true;
      }
      case P.Command.SetOptimizer: {
        const type = GRADIENT_OPTIMIZER_TYPES[args[P.ARG_OPTIMIZER]!]!;
        net.setOptimizer(type, args[P.ARG_WEIGHT_DECAY]!, args[P.ARG_CLIP_NORM]!);
        uploads(flags);
        return true;
      }
      case P.Command.HoldImages: {
        const images = await nextImages();
        const layout = heldImagesLayout(images, device.limits);
        if (typeof layout === 'string') {
          P.writeText(s.control, layout);
          args[P.ARG_RESULT] = 0;
          return true;
        }
        held = net.holdImages(images, layout);
        held.upload(images.pixels);
        args[P.ARG_RESULT] = 1;
        return true;
      }
      case P.Command.Close: {
        // Everything is destroyed before the answer: the calling thread may end this thread after it,
        // and ending it inside a Dawn call is fatal to the process.
        await Promise.all(inFlight);
        parentPort!.removeAllListeners('message');
        net.destroy();
        for (const b of lossStaging) b.destroy();
        logitStaging.destroy();
        device.destroy();
        return false;
      }
      default:
        throw new Error(`GPU core: unknown command ${cmd}`);
    }
  }

  function fail(message: string): void {
    P.writeText(s.control, message);
    Atomics.store(ctl, P.STATUS, 1);
    // Wake the calling thread wherever it waits.
    Atomics.notify(ctl, P.DONE);
    Atomics.notify(ctl, P.SETTLED);
  }

  // The images to hold arrive as a message (P.ImagesMessage), before their HoldImages command but
  // not necessarily before its wake-up. (The listening port also keeps this thread alive: a
  // pending Atomics.waitAsync holds no handle, so without it the thread's event loop would count
  // as empty and the thread would end while waiting for its next command.)
  let images: HeldImages | null = null;
  let imagesArrived: (() => void) | null = null;
  parentPort!.on('message', (m: P.ImagesMessage) => {
    if (m?.images) {
      images = m.images;
      imagesArrived?.();
    }
  });
  async function nextImages(): Promise<HeldImages> {
    if (images === null) await new Promise<void>((resolve) => (imagesArrived = resolve));
    const taken = images!;
    images = null;
    imagesArrived = null;
    return taken;
  }
  P.writeText(s.control, JSON.stringify(info));
  Atomics.store(ctl, P.READY, 1);
  parentPort!.postMessage('ready');
  let seen = 0;
  let going = true;
  while (going) {
    const wait = waitAsync(ctl, P.SEQ, seen);
    if (wait.async) await wait.value;
    const seq = Atomics.load(ctl, P.SEQ);
    if (seq === seen) continue;
    seen = seq;
    try {
      if (failure !== null) throw new Error(failure);
      going = await run(ctl[P.CMD]!, ctl[P.BATCH]!, ctl[P.FLAGS]!);
      if (lost !== null) throw new Error(lost);
    } catch (err) {
      failure ??= lost ?? (err as Error).message;
      fail(failure);
    }
    Atomics.store(ctl, P.DONE, seq);
    Atomics.notify(ctl, P.DONE);
  }
}

main(workerData as GpuWorkerData).catch((err: Error) => {
  const s = (workerData as GpuWorkerData).shared;
  P.writeText(s.control, err.message);
  Atomics.store(new Int32Array(s.control), P.READY, err instanceof TooBig ? 3 : 2);
  parentPort!.postMessage('failed');
});
