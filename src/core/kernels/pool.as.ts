// What max and average pooling share in the gradient core: which windows hold an input position
// along one axis (valid windows, no padding, as src/nn/layers/pool.ts). Output o covers inputs
// o * stride + [0, size), so input i lies in the windows o with ceil((i - size + 1) / stride) <= o
// <= floor(i / stride), clipped to [0, nOut). The backward kernels gather each dx value from those
// windows, so a thread owns whole rows of dx and overlapping windows never make two threads add
// into the same value.

/** First window holding input i. */
// @ts-ignore: decorator
@inline export function firstWindow(i: i32, size: i32, stride: i32): i32 {
  return i < size ? 0 : (i - size) / stride + 1;
}

/** Last window holding input i; less than firstWindow when none does (a gap, or past the last window). */
// @ts-ignore: decorator
@inline export function lastWindow(i: i32, stride: i32, nOut: i32): i32 {
  return min(nOut - 1, i / stride);
}
