/**
 * The shape of one sample's activations: height x width x channels, stored channels-last (HWC):
 * value (y, x, c) of a sample is at (y * width + x) * channels + c. A flat vector of n values (after
 * a dense layer or a flatten) is the shape 1 x 1 x n, so "per channel" and "per unit" are the same
 * thing to every layer.
 */
export interface Shape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Values per sample. */
export function shapeSize(s: Shape): number {
  return s.height * s.width * s.channels;
}

/** "64x64x3", or "256" for a flat vector. */
export function formatShape(s: Shape): string {
  return s.height === 1 && s.width === 1 ? `${s.channels}` : `${s.height}x${s.width}x${s.channels}`;
}

export function flatShape(n: number): Shape {
  return { height: 1, width: 1, channels: n };
}
