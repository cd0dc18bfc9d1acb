/**
 * A seeded, stratified train/validation split that depends on each file's name, not its position.
 *
 * Each image gets a score hash(seed, relativePath), a fixed pseudo-random 32-bit number. Within each
 * class, the round(fraction * classCount) images with the lowest scores form the validation set.
 * So the split:
 *   - is stratified: each class contributes the same fraction (to within one image);
 *   - is deterministic, and independent of the order in which files are listed;
 *   - is stable: adding or removing images moves at most about one existing image per class across the
 *     boundary (scores of the others do not change), unlike splitting a shuffled list by position.
 */

export interface Split {
  /** Indices into the dataset, ascending. */
  train: Uint32Array;
  validation: Uint32Array;
}

/**
 * 32-bit hash of a string with a seed: FNV-1a over UTF-16 code units, then murmur3's finaliser so that
 * names differing in their last character still get unrelated scores.
 */
export function hashString(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Splits images (identified by `keys`, e.g. relative paths, with `labels` 0/1) into train and
 * validation index sets. `validationFraction` in [0, 1).
 */
export function splitTrainValidation(
  keys: readonly string[],
  labels: Uint8Array,
  options: { validationFraction: number; seed: number },
): Split {
  const { validationFraction: fraction, seed } = options;
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`validationFraction must be in [0, 1), got ${fraction}`);
  if (keys.length !== labels.length) throw new RangeError(`${keys.length} keys for ${labels.length} labels`);
  const isValidation = new Uint8Array(labels.length);
  for (const label of [0, 1]) {
    const members: { index: number; score: number; key: string }[] = [];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === label) members.push({ index: i, score: hashString(keys[i]!, seed), key: keys[i]! });
    }
    // Ties in the 32-bit score are broken by the key itself, so the order is total and list-independent.
    members.sort((a, b) => a.score - b.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const count = Math.round(fraction * members.length);
    for (let k = 0; k < count; k++) isValidation[members[k]!.index] = 1;
  }
  let nValidation = 0;
  for (let i = 0; i < isValidation.length; i++) nValidation += isValidation[i]!;
  const train = new Uint32Array(labels.length - nValidation);
  const validation = new Uint32Array(nValidation);
  let t = 0;
  let v = 0;
  for (let i = 0; i < labels.length; i++) {
    if (isValidation[i]) validation[v++] = i;
    else train[t++] = i;
  }
  return { train, validation };
}
