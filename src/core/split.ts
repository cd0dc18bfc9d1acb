/**
 * How work is cut between threads. Every split here only decides which thread computes what;
 * no sum is ever cut, so results never depend on the number of threads:
 *   - forward product and weight gradient: output rows (a row's sums are all in one thread);
 *   - input gradient: input columns;
 *   - optimizer update and squared norm: ranges of elements or fixed-size blocks.
 */

/**
 * Part t of T of [0, n): [start, end), boundaries at multiples of `align` (the last part ends at
 * n). Parts may be empty when n is small.
 */
export function share(n: number, t: number, T: number, align = 1): [number, number] {
  const edge = (i: number): number => (i >= T ? n : Math.min(n, Math.round((n * i) / T / align) * align));
  return [edge(t), edge(t + 1)];
}

/** Elements per block of the squared-norm pass: blocks are fixed, so the sum of partials is too. */
export const NORM_BLOCK = 16384;

/** One range of the flat parameter vector: the weights or the biases of a layer. */
export interface ParamRange {
  start: number;
  length: number;
  isWeight: boolean;
}
