/**
 * removeStaleTempFiles (src/files.ts): the temporary files of an atomic write whose process died
 * go; a live process's stay, and so does every other file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTempFiles, writeFileAtomic } from '../src/files.ts';
import { makeTempDir, removeTempDir } from './helpers/images.ts';

const tmp = makeTempDir();
afterAll(() => removeTempDir(tmp));

describe('removeStaleTempFiles', () => {
  it('removes the temp files of dead processes only', () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited and reaped
    const names = {
      stale: `.last.json.${dead}.3.tmp`,
      live: `.model.json.${process.pid}.0.tmp`,
      other: '.notes.tmp',
      data: 'last.json',
    };
    for (const name of Object.values(names)) writeFileSync(join(dir, name), 'x');
    expect(removeStaleTempFiles(dir)).toEqual([names.stale]);
    expect(readdirSync(dir).sort()).toEqual([names.live, names.other, names.data].sort());
  });

  it('leaves nothing of its own behind after a whole atomic write', () => {
    const dir = join(tmp, 'clean');
    mkdirSync(dir);
    writeFileAtomic(join(dir, 'a.json'), '{}');
    expect(readdirSync(dir)).toEqual(['a.json']);
    expect(removeStaleTempFiles(dir)).toEqual([]);
  });

  it('is quiet about a folder that does not exist', () => {
    expect(removeStaleTempFiles(join(tmp, 'missing'))).toEqual([]);
  });
});
