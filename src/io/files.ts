/**
 * File helpers kept apart from the math: atomic writes and reading model files.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { describeFsError, UserError } from '../errors.ts';
import { decodeModel, encodeModel, ModelFormatError, type Model } from '../nn/model-file.ts';

let tempCounter = 0;

/**
 * Writes `data` to `path` so that a crash (or kill -9) at any moment leaves either the previous
 * file or the new one, never a mix: write a temp file in the same folder, fsync it, rename it over
 * the target (atomic within a file system), then fsync the folder so the rename itself is durable.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    // Pieces are written straight from the caller's buffers (no copy of a large pixel array).
    const pieces = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
    for (const bytes of pieces) {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic.
  }
}

/** Reads a text file or throws a UserError naming it ("what" says what the file was meant to be). */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${path}: cannot read ${what}: ${describeFsError(err)}`);
  }
}

/** Loads a model file; every defect becomes one line naming the file and the field. */
export function readModelFile(path: string): Model {
  const text = readTextFile(path, 'the model file');
  try {
    return decodeModel(text);
  } catch (err) {
    if (err instanceof ModelFormatError) throw new UserError(`${path}: bad model file: ${err.message}`);
    throw err;
  }
}

export function writeModelFile(path: string, model: Model): void {
  writeFileAtomic(path, encodeModel(model));
}
