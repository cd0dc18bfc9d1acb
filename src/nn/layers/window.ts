/**
 * Where a sliding window (a convolution kernel or a pooling window) lands along one axis.
 *
 *   valid:  out = floor((in - size) / stride) + 1, no padding (the window must fit: size <= in)
 *   same:   out = ceil(in / stride), padded with zeros: total = max((out - 1) * stride + size - in, 0),
 *           before = floor(total / 2), the odd one after (TensorFlow's and ONNX's SAME_UPPER rule)
 * Output position o covers inputs o * stride - before + [0, size).
 */
import { ShapeError } from './layer.ts';

export interface WindowAxis {
  out: number;
  /** Zero rows (or columns) before the first input. */
  before: number;
  /** Zero rows (or columns) after the last input. */
  after: number;
}

export function windowAxis(input: number, size: number, stride: number, padding: 'same' | 'valid', axis: string): WindowAxis {
  if (padding === 'valid') {
    if (size > input) throw new ShapeError(`a window of ${size} ${axis} does not fit in ${input}`);
    return { out: Math.floor((input - size) / stride) + 1, before: 0, after: 0 };
  }
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + size - input, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}
