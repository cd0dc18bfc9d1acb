/**
 * Files on disk, safely: atomic writes, bounded reads, mkdir -p, and checking an output path
 * before any work. No file format lives here (the model file and the checkpoint are in src/io).
 */
import { constants } from 'node:buffer';
import { accessSync, closeSync, constants as fsConstants, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { describeFsError, UserError } from './errors.ts';

let tempCounter = 0;

/**
 * Writes `data` to `path` so that a crash (or kill -9) at any moment leaves either the previous
 * file or the new one, never a mix: write a temp file in the same folder, fsync it, rename it over
 * the target (atomic within a file system), then fsync the folder so the rename itself is durable.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  // What is at the path decides how: a device or a pipe (/dev/null, a FIFO) is written as it is
  // (renaming over it would replace the device with a file); a symbolic link is written through,
  // so the link stays a link; anything else gets the atomic replacement.
  let path = target;
  try {
    const st = statSync(target);
    if (!st.isFile() && !st.isDirectory()) {
      writeFileSync(target, typeof data === 'string' || data instanceof Uint8Array ? data : Buffer.concat(data));
      return;
    }
    path = realpathSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
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

/** writeFileAtomic's temporary files: `.NAME.PID.N.tmp`. */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

/**
 * Removes from `dir` the temporary files of writeFileAtomic left by a process that is gone (killed
 * between creating the file and renaming it). A file whose process still runs is another writer's,
 * half written, and stays. Best effort: returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const pid = TEMP_FILE.exec(name)?.[1];
    if (pid === undefined || processIsAlive(Number(pid))) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // not ours to insist on
    }
  }
  return removed;
}

/** Whether a process with this id exists (signal 0 checks without sending; EPERM: it exists, not ours). */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fails (a UserError, exit 2) before any work when a command could not write its output file at
 * the end: the path is a folder or ends with /, its folder is missing, not a folder or read-only,
 * or it is the model file the command reads. A device or a pipe passes: it is written as it is.
 * `what` names the output in the message: "the metrics", "the ONNX file".
 */
export function checkOutputFile(path: string, what: string, modelPath: string): void {
  const fail = (why: string): never => {
    throw new UserError(`${path}: cannot write ${what}: ${why}`);
  };
  let target: Stats | null = null;
  try {
    target = statSync(path);
  } catch {
    // does not exist yet (or a dangling link): the folder decides
  }
  if (target?.isDirectory()) fail('is a folder, expected a file');
  if (path.endsWith('/')) fail('ends with /, expected a file name');
  if (target !== null && !target.isFile()) return;
  if (target !== null && existsSync(modelPath) && realpathSync(path) === realpathSync(modelPath)) fail('it is the model file');
  const folder = dirname(target !== null ? realpathSync(path) : path);
  try {
    if (!statSync(folder).isDirectory()) fail(`${folder} is not a folder`);
    accessSync(folder, fsConstants.W_OK);
  } catch (err) {
    if (err instanceof UserError) throw err;
    fail(describeFsError(err));
  }
}

/**
 * Makes a folder and any missing parents (mkdir -p). Not mkdirSync(dir, { recursive: true }): on
 * Node 20 that loops forever when mkdir fails with ENOENT although the parent exists, which is what
 * /proc and /sys answer (`--out /proc/x` would hang). Here each missing level is made in turn, and
 * the first failure is thrown (a Node file-system error).
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let cur = resolve(dir); !existsSync(cur); cur = dirname(cur)) {
    missing.push(cur);
    if (dirname(cur) === cur) break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by someone else
    }
  }
}

/**
 * Reads a text file or throws a UserError naming it ("what" says what the file was meant to be).
 * At most `maxBytes` are read (by default as many as a JavaScript string can hold): not
 * readFileSync, which reads a device such as /dev/zero, or a FIFO fed forever, without end.
 * A regular file is read into one buffer of its size plus a byte (which shows whether it grew
 * meanwhile): a model file is megabytes, and pieces joined afterwards would be copied twice.
 */
export function readTextFile(path: string, what: string, maxBytes: number = constants.MAX_STRING_LENGTH): string {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const stats = fstatSync(fd);
    let buffer = Buffer.allocUnsafe(Math.min(stats.isFile() ? stats.size + 1 : 1 << 16, maxBytes + 1));
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        if (total > maxBytes) {
          const size = maxBytes >= 2 ** 20 ? `${Math.round(maxBytes / 2 ** 20)} MB` : `${maxBytes.toLocaleString('en-US')} bytes`;
          throw new UserError(`${path}: cannot read ${what}: it is larger than ${size} (is it the right file?)`);
        }
        const larger = Buffer.allocUnsafe(Math.min(2 * buffer.length, maxBytes + 1));
        buffer.copy(larger, 0, 0, total);
        buffer = larger;
      }
      const n = readSync(fd, buffer, total, buffer.length - total, null);
      if (n === 0) break;
      total += n;
    }
    return buffer.toString('utf8', 0, total);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: cannot read ${what}: ${describeFsError(err)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
