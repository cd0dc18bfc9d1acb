/**
 * How the calling thread talks to the GPU thread (gpu-worker.ts): one SharedArrayBuffer of control
 * words and arguments, and shared arrays for what crosses (weights, statistics, gradients, the
 * optimizer's state, the batch, the logits, the losses). The calling thread writes a command and
 * its arguments, bumps SEQ and sleeps (Atomics.wait) until DONE equals it; the GPU thread wakes
 * (Atomics.waitAsync: its event loop must stay free for Dawn's callbacks), does it, and answers.
 *
 * A training step is answered as soon as it is submitted: the calling thread then fills the next
 * batch while the GPU computes. Its loss comes back later (a ring of mapped staging buffers on the
 * GPU thread) into LOSSES, and SETTLED counts the steps whose loss has arrived.
 */
import type { HeldImages } from '../batch-rows.ts';

/** Int32 control words. */
export const SEQ = 0;
export const DONE = 1;
export const CMD = 2;
export const BATCH = 3;
export const FLAGS = 4;
/** 0 while well; 1 after a failure, with its message in the text area. */
export const STATUS = 5;
export const SETTLED = 6;
export const TEXT_LENGTH = 7;
/** The GPU thread is up (1), failed to start (2), or refused a batch too big for the adapter (3). */
export const READY = 8;
/** The training step's number, which keys dropout's masks (with the seed). */
export const STEP = 9;
export const CONTROL_WORDS = 16;

/** The message area (UTF-8), after the control words. */
export const TEXT_OFFSET = CONTROL_WORDS * 4;
export const TEXT_BYTES = 2048;

/** Float64 arguments, after the text. */
export const ARGS_OFFSET = TEXT_OFFSET + TEXT_BYTES;
export const ARG_LR = 0;
/** The optimizer's step constants (Optimizer.stepConstants), 8 of them. */
export const ARG_CONSTANTS = 1;
export const ARG_WEIGHT_DECAY = 9;
/** Clipping's maximum global norm, or 0 for none. */
export const ARG_CLIP_NORM = 10;
/** setOptimizer's optimizer kind (index in GPU_OPTIMIZERS). */
export const ARG_OPTIMIZER = 11;
/** A result: the loss of a Gradient command. */
export const ARG_RESULT = 12;
export const ARG_COUNT = 16;
export const CONTROL_BYTES = ARGS_OFFSET + ARG_COUNT * 8;

export const enum Command {
  Train = 1,
  /** Forward in training mode, loss and backward; no update. Answered once the loss is back. */
  Gradient = 2,
  /** Forward in inference mode; the logits into the shared logits array. */
  Infer = 3,
  /** Copies what FLAGS names from the GPU into the shared arrays. */
  Download = 4,
  SetOptimizer = 5,
  Close = 6,
  /**
   * Keeps the images of the last ImagesMessage on the GPU (Core.holdImages); ARG_RESULT 1 when held,
   * 0 when they exceed the device's limits (the reason in the text area). Held, every later call
   * forms its input from the shared rows.
   */
  HoldImages = 7,
}

/** The images to hold: sent with postMessage (once; too large for the control area) before HoldImages. */
export interface ImagesMessage {
  images: HeldImages;
}

/** FLAGS bits: with Download, what to bring back; with the other commands, what to upload first. */
export const PARAMS = 1;
export const STATS = 2;
export const STATE = 4;
export const GRADS = 8;

/** Losses kept for the calling thread: a step's (loss, norm) sits at 2 * (step % LOSS_RING). */
export const LOSS_RING = 4096;

/** The shared arrays, made by the calling thread and handed to the GPU thread at its start. */
export interface SharedArrays {
  control: SharedArrayBuffer;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  /** The optimizer's two state buffers (either may go unused). */
  state0: SharedArrayBuffer;
  state1: SharedArrayBuffer;
  input: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  logits: SharedArrayBuffer;
  /** The batch's rows (src/core/batch-rows.ts) once images are held. */
  rows: SharedArrayBuffer;
  /** Float64 (loss, global gradient norm) per step, LOSS_RING of them. */
  losses: SharedArrayBuffer;
}

export function writeText(control: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, TEXT_BYTES);
  new Uint8Array(control, TEXT_OFFSET, TEXT_BYTES).set(bytes);
  new Int32Array(control)[TEXT_LENGTH] = bytes.length;
}

export function readText(control: SharedArrayBuffer): string {
  const n = new Int32Array(control)[TEXT_LENGTH]!;
  return new TextDecoder().decode(new Uint8Array(control, TEXT_OFFSET, n).slice());
}
