// The optimizer step as one pass over a range of parameters: weight decay, the clipping factor and
// the optimizer's rule fused, each element read and written once. Threads update disjoint ranges.
//
// The arithmetic is exactly that of the TypeScript optimizers in src/optim (their doc comments give
// the contract): float32 values are widened to double, each formula is evaluated in double in the
// order written there, and each stored result is rounded to float32; a state value is rounded
// before the weight update reads it. Two lanes of double (f64x2) per operation; the scalar tail
// does the same in plain f64. No fused multiply-add here (it would change the rounding), so the
// result for an element never depends on where it falls in a SIMD vector.
//
// Per element, in this order (L2 decay on weights only, then the clipping factor, then the rule):
//   g = fround(g + lambda * w)            if decay is on and the element is a weight
//   g = fround(g * scale)                 if scale is on
//   sgd       w = fround(w - lr * g)
//   momentum  v = fround(beta * v + gScale * g);           w = fround(w - lrHat * v)
//   nesterov  v = fround(beta * v + g);                    w = fround(w - lr * (g + beta * v))
//   rmsprop   s = fround(rho * s + (1 - rho) * (g * g));   w = fround(w - (lr * g) / (sqrt(s) + eps))
//   adam      m = fround(beta1 * m + (1 - beta1) * g);  v = fround(beta2 * v + (1 - beta2) * (g * g))
//             w = fround(w - (lr * (m / c1)) / (sqrt(v / c2) + eps))
//
// The step descriptor (written by src/core/step-scalars.ts, read here), at byte offsets:
//   4 optimizer kind   8 params   12 grads   16 state 1   20 state 2   24 decay on   28 scale on
//   32 lambda (f64)   40 scale (f64)   48.. optimizer constants (f64)
import { at } from './simd.as';

const SGD = 0;
const MOMENTUM = 1;
const NESTEROV = 2;
const RMSPROP = 3;
const ADAM = 4;

// @ts-ignore: decorator
@inline function lo(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline function hi(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}
/** Rounds two f64x2 to float32 and joins them into one f32x4. */
// @ts-ignore: decorator
@inline function narrow(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function k(step: usize, i: i32): f64 {
  return load<f64>(step + 48 + (<usize>i << 3));
}

/**
 * Updates the elements [e0, e0 + n) of the flat parameter vector from the gradient buffer, as the
 * step descriptor `step` says. `isWeight` is false for biases (no weight decay).
 */
export function applyUpdate(step: usize, e0: i32, n: i32, isWeight: bool): void {
  const W = at(load<i32>(step, 8), e0);
  const g = at(load<i32>(step, 12), e0);
  const decay = isWeight && load<i32>(step, 24) != 0;
  const lambda = load<f64>(step, 32);
  const scaleOn = load<i32>(step, 28) != 0;
  const scale = load<f64>(step, 40);
  const S1 = at(load<i32>(step, 16), e0);
  const S2 = at(load<i32>(step, 20), e0);
  switch (load<i32>(step, 4)) {
    case SGD: sgd(W, g, n, decay, lambda, scaleOn, scale, k(step, 0)); break;
    case MOMENTUM: momentum(W, g, S1, n, decay, lambda, scaleOn, scale, k(step, 0), k(step, 1), k(step, 2)); break;
    case NESTEROV: nesterov(W, g, S1, n, decay, lambda, scaleOn, scale, k(step, 0), k(step, 1)); break;
    case RMSPROP: rmsprop(W, g, S1, n, decay, lambda, scaleOn, scale, k(step, 0), k(step, 1), k(step, 2), k(step, 3)); break;
    case ADAM:
      adam(W, g, S1, S2, n, decay, lambda, scaleOn, scale, k(step, 0), k(step, 1), k(step, 2), k(step, 3), k(step, 4), k(step, 5), k(step, 6), k(step, 7));
      break;
    default: unreachable();
  }
}

/** The effective gradient of four elements (decay, then scale), as float32 lanes. */
// @ts-ignore: decorator
@inline function effective4(g: v128, w: v128, decay: bool, lambda: v128, scaleOn: bool, scale: v128): v128 {
  if (decay) g = narrow(f64x2.add(lo(g), f64x2.mul(lambda, lo(w))), f64x2.add(hi(g), f64x2.mul(lambda, hi(w))));
  if (scaleOn) g = narrow(f64x2.mul(lo(g), scale), f64x2.mul(hi(g), scale));
  return g;
}
// @ts-ignore: decorator
@inline function effective1(g: f64, w: f64, decay: bool, lambda: f64, scaleOn: bool, scale: f64): f64 {
  if (decay) g = <f64><f32>(g + lambda * w);
  if (scaleOn) g = <f64><f32>(g * scale);
  return g;
}

function sgd(W: usize, g: usize, n: i32, decay: bool, lambda: f64, scaleOn: bool, scale: f64, lr: f64): void {
  const L = f64x2.splat(lambda), S = f64x2.splat(scale), R = f64x2.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(W, i));
    const gv = effective4(v128.load(at(g, i)), w, decay, L, scaleOn, S);
    v128.store(at(W, i), narrow(f64x2.sub(lo(w), f64x2.mul(R, lo(gv))), f64x2.sub(hi(w), f64x2.mul(R, hi(gv)))));
  }
  for (; i < n; i++) {
    const w = <f64>load<f32>(at(W, i));
    const gv = effective1(<f64>load<f32>(at(g, i)), w, decay, lambda, scaleOn, scale);
    store<f32>(at(W, i), <f32>(w - lr * gv));
  }
}

function momentum(W: usize, g: usize, V: usize, n: i32, decay: bool, lambda: f64, scaleOn: bool, scale: f64, beta: f64, gScale: f64, lrHat: f64): void {
  const L = f64x2.splat(lambda), S = f64x2.splat(scale), Bt = f64x2.splat(beta), Gs = f64x2.splat(gScale), R = f64x2.splat(lrHat);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(W, i));
    const gv = effective4(v128.load(at(g, i)), w, decay, L, scaleOn, S);
    const v0 = v128.load(at(V, i));
    const v = narrow(f64x2.add(f64x2.mul(Bt, lo(v0)), f64x2.mul(Gs, lo(gv))), f64x2.add(f64x2.mul(Bt, hi(v0)), f64x2.mul(Gs, hi(gv))));
    v128.store(at(V, i), v);
    v128.store(at(W, i), narrow(f64x2.sub(lo(w), f64x2.mul(R, lo(v))), f64x2.sub(hi(w), f64x2.mul(R, hi(v)))));
  }
  for (; i < n; i++) {
    const w = <f64>load<f32>(at(W, i));
    const gv = effective1(<f64>load<f32>(at(g, i)), w, decay, lambda, scaleOn, scale);
    const v = <f64><f32>(beta * <f64>load<f32>(at(V, i)) + gScale * gv);
    store<f32>(at(V, i), <f32>v);
    store<f32>(at(W, i), <f32>(w - lrHat * v));
  }
}

function nesterov(W: usize, g: usize, V: usize, n: i32, decay: bool, lambda: f64, scaleOn: bool, scale: f64, beta: f64, lr: f64): void {
  const L = f64x2.splat(lambda), S = f64x2.splat(scale), Bt = f64x2.splat(beta), R = f64x2.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(W, i));
    const gv = effective4(v128.load(at(g, i)), w, decay, L, scaleOn, S);
    const v0 = v128.load(at(V, i));
    const gl = lo(gv), gh = hi(gv);
    const v = narrow(f64x2.add(f64x2.mul(Bt, lo(v0)), gl), f64x2.add(f64x2.mul(Bt, hi(v0)), gh));
    v128.store(at(V, i), v);
    v128.store(at(W, i), narrow(
      f64x2.sub(lo(w), f64x2.mul(R, f64x2.add(gl, f64x2.mul(Bt, lo(v))))),
      f64x2.sub(hi(w), f64x2.mul(R, f64x2.add(gh, f64x2.mul(Bt, hi(v))))),
    ));
  }
  for (; i < n; i++) {
    const w = <f64>load<f32>(at(W, i));
    const gv = effective1(<f64>load<f32>(at(g, i)), w, decay, lambda, scaleOn, scale);
    const v = <f64><f32>(beta * <f64>load<f32>(at(V, i)) + gv);
    store<f32>(at(V, i), <f32>v);
    store<f32>(at(W, i), <f32>(w - lr * (gv + beta * v)));
  }
}

function rmsprop(W: usize, g: usize, Sq: usize, n: i32, decay: bool, lambda: f64, scaleOn: bool, scale: f64, rho: f64, oneMinusRho: f64, eps: f64, lr: f64): void {
  const L = f64x2.splat(lambda), S = f64x2.splat(scale), Rh = f64x2.splat(rho), Om = f64x2.splat(oneMinusRho);
  const E = f64x2.splat(eps), R = f64x2.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(W, i));
    const gv = effective4(v128.load(at(g, i)), w, decay, L, scaleOn, S);
    const s0 = v128.load(at(Sq, i));
    const gl = lo(gv), gh = hi(gv);
    const s = narrow(f64x2.add(f64x2.mul(Rh, lo(s0)), f64x2.mul(Om, f64x2.mul(gl, gl))), f64x2.add(f64x2.mul(Rh, hi(s0)), f64x2.mul(Om, f64x2.mul(gh, gh))));
    v128.store(at(Sq, i), s);
    v128.store(at(W, i), narrow(
      f64x2.sub(lo(w), f64x2.div(f64x2.mul(R, gl), f64x2.add(f64x2.sqrt(lo(s)), E))),
      f64x2.sub(hi(w), f64x2.div(f64x2.mul(R, gh), f64x2.add(f64x2.sqrt(hi(s)), E))),
    ));
  }
  for (; i < n; i++) {
    const w = <f64>load<f32>(at(W, i));
    const gv = effective1(<f64>load<f32>(at(g, i)), w, decay, lambda, scaleOn, scale);
    const s = <f64><f32>(rho * <f64>load<f32>(at(Sq, i)) + oneMinusRho * (gv * gv));
    store<f32>(at(Sq, i), <f32>s);
    store<f32>(at(W, i), <f32>(w - (lr * gv) / (Math.sqrt(s) + eps)));
  }
}

function adam(
  W: usize, g: usize, M: usize, V: usize, n: i32, decay: bool, lambda: f64, scaleOn: bool, scale: f64,
  beta1: f64, omb1: f64, beta2: f64, omb2: f64, c1: f64, c2: f64, eps: f64, lr: f64,
): void {
  const L = f64x2.splat(lambda), S = f64x2.splat(scale);
  const B1 = f64x2.splat(beta1), O1 = f64x2.splat(omb1), B2 = f64x2.splat(beta2), O2 = f64x2.splat(omb2);
  const C1 = f64x2.splat(c1), C2 = f64x2.splat(c2), E = f64x2.splat(eps), R = f64x2.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(W, i));
    const gv = effective4(v128.load(at(g, i)), w, decay, L, scaleOn, S);
    const gl = lo(gv), gh = hi(gv);
    const m0 = v128.load(at(M, i));
    const v0 = v128.load(at(V, i));
    const m = narrow(f64x2.add(f64x2.mul(B1, lo(m0)), f64x2.mul(O1, gl)), f64x2.add(f64x2.mul(B1, hi(m0)), f64x2.mul(O1, gh)));
    const v = narrow(f64x2.add(f64x2.mul(B2, lo(v0)), f64x2.mul(O2, f64x2.mul(gl, gl))), f64x2.add(f64x2.mul(B2, hi(v0)), f64x2.mul(O2, f64x2.mul(gh, gh))));
    v128.store(at(M, i), m);
    v128.store(at(V, i), v);
    v128.store(at(W, i), narrow(
      f64x2.sub(lo(w), f64x2.div(f64x2.mul(R, f64x2.div(lo(m), C1)), f64x2.add(f64x2.sqrt(f64x2.div(lo(v), C2)), E))),
      f64x2.sub(hi(w), f64x2.div(f64x2.mul(R, f64x2.div(hi(m), C1)), f64x2.add(f64x2.sqrt(f64x2.div(hi(v), C2)), E))),
    ));
  }
  for (; i < n; i++) {
    const w = <f64>load<f32>(at(W, i));
    const gv = effective1(<f64>load<f32>(at(g, i)), w, decay, lambda, scaleOn, scale);
    const m = <f64><f32>(beta1 * <f64>load<f32>(at(M, i)) + omb1 * gv);
    const v = <f64><f32>(beta2 * <f64>load<f32>(at(V, i)) + omb2 * (gv * gv));
    store<f32>(at(M, i), <f32>m);
    store<f32>(at(V, i), <f32>v);
    store<f32>(at(W, i), <f32>(w - (lr * (m / c1)) / (Math.sqrt(v / c2) + eps)));
  }
}

/**
 * sum of g^2 over the elements [e0, e0 + n) in double, for clipping by global norm, where g is the
 * gradient after weight decay (as applyUpdate computes it). Four running sums (two f64x2), each over
 * every fourth element, added at the end: a fixed order for a given block.
 */
export function sumSquares(step: usize, e0: i32, n: i32, isWeight: bool): f64 {
  const W = at(load<i32>(step, 8), e0);
  const g = at(load<i32>(step, 12), e0);
  const decay = isWeight && load<i32>(step, 24) != 0;
  const lambda = load<f64>(step, 32);
  const L = f64x2.splat(lambda);
  const one = f64x2.splat(1);
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = effective4(v128.load(at(g, i)), v128.load(at(W, i)), decay, L, false, one);
    const l = lo(v), h = hi(v);
    a = f64x2.add(a, f64x2.mul(l, l));
    b = f64x2.add(b, f64x2.mul(h, h));
  }
  let t = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; i < n; i++) {
    const x = effective1(<f64>load<f32>(at(g, i)), <f64>load<f32>(at(W, i)), decay, lambda, false, 1);
    t += x * x;
  }
  return t;
}
