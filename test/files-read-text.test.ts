/**
 * readTextFile (src/files.ts): a regular file comes back whole and exact, whatever its size; the
 * byte limit holds for files and for endless devices alike; what cannot be read is one UserError
 * naming the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { readTextFile } from '../src/files.ts';
import { makeTempDir, removeTempDir } from './helpers/images.ts';

const tmp = makeTempDir();
afterAll(() => removeTempDir(tmp));

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('readTextFile', () => {
  it('returns a multi-megabyte UTF-8 file exactly (characters of 1 to 4 bytes)', () => {
    const path = join(tmp, 'big.json');
    const text = 'aé€😀'.repeat(300_000); // 10 bytes a repeat: 3 MB
    writeFileSync(path, text);
    expect(readTextFile(path, 'the model file')).toBe(text);
  });

  it('reads an empty file and an empty device as ""', () => {
    const path = join(tmp, 'empty.json');
    writeFileSync(path, '');
    expect(readTextFile(path, 'the model file')).toBe('');
    expect(readTextFile('/dev/null', 'the model file')).toBe('');
  });

  it('accepts a file of exactly maxBytes and refuses one byte more, naming the file', () => {
    const path = join(tmp, 'limit.json');
    writeFileSync(path, 'x'.repeat(1000));
    expect(readTextFile(path, 'the config file', 1000)).toBe(readFileSync(path, 'utf8'));
    const err = errorOf(() => readTextFile(path, 'the config file', 999));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`${path}: cannot read the config file: it is larger than 999 bytes (is it the right file?)`);
  });

  it('stops an endless device at the limit (pieces grown past the first)', () => {
    const err = errorOf(() => readTextFile('/dev/zero', 'the checkpoint', 200_000));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('/dev/zero: cannot read the checkpoint: it is larger than 200,000 bytes (is it the right file?)');
  });

  it('a folder or a missing file is one UserError naming it', () => {
    const folder = errorOf(() => readTextFile(tmp, 'the model file'));
    expect(folder).toBeInstanceOf(UserError);
    expect(folder.message.startsWith(`${tmp}: cannot read the model file: `)).toBe(true);
    const missing = join(tmp, 'nope.json');
    const gone = errorOf(() => readTextFile(missing, 'the model file'));
    expect(gone).toBeInstanceOf(UserError);
    expect(gone.message.startsWith(`${missing}: cannot read the model file: `)).toBe(true);
  });
});
