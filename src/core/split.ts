/**
 * How work is cut between threads. Every split here only decides which thread computes what;
 * no sum is ever cut, so results never depend on the number of threads:
 *   - forward product and weight gradient: output rows (a row's sums are all in one thread);
 *   - input gradient: input columns;
 *   - optimizer update and squared norm: ranges of elements or fixed-size blocks.
 */

/**
 * Boundary i (0..T) of the T parts of [0, n): parts meet at multiples of `align`, the last one ends
 * at n, and parts may be empty when n is small. Part t is [cut(n, t, T), cut(n, t + 1, T)): plain
 * arithmetic, so a driver finds its share on every batch without allocating anything.
 */
export function cut(n: number, i: number, T: number, align = 1): number {
  return i >= T ? n : Math.min(n, Math.round((n * i) / T / align) * align);
}

/** Part t of T of [0, n) as [start, end) (by cut): for splits made once, when a core is set up. */
export function share(n: number, t: number, T: number, align = 1): [number, number] {
  return [cut(n, t, T, align), cut(n, t + 1, T, align)];
}

/** Elements per block of the squared-norm pass: blocks are fixed, so the sum of partials is too. */
export const NORM_BLOCK = 16384;

/** One range of the flat parameter vector: the weights or the biases of a layer. */
export interface ParamRange {
  start: number;
  length: number;
  isWeight: boolean;
}
