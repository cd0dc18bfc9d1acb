/**
 * The decoded-data cache: one file per (data folder, decode settings, limit) holding the uint8 pixels,
 * labels and file list of a decoded data set, read back in one go on the next run.
 *
 * File layout (all integers little-endian):
 *
 *   offset  size  field
 *   0       8     magic "NNTCACHE"
 *   8       4     format version (CACHE_FORMAT_VERSION)
 *   12      4     H = byte length of the header JSON
 *   16      8     P = byte length of the payload
 *   24      32    SHA-256 of everything from offset 56 to the end (header JSON and payload)
 *   56      H     header JSON (CacheHeader: key, shape, relative paths, skipped files, ...)
 *   56+H    P     payload: labels (N bytes, 0 cat / 1 dog), then pixels (N, width * height * channels)
 *
 * A cache is used only if the magic, version, total length, checksum and header all check out and its
 * key equals the key of the data as it is now. The key is a SHA-256 of the decoder id, the decode
 * settings, the limit and every listed file's relative path, size and modification time, so touching,
 * adding, removing or replacing a file, or changing a setting, all make a new key.
 * A cache that fails any check is rebuilt, never trusted. Files are written atomically (temp + rename).
 *
 * Where: `defaultCacheDir()`, the user's cache folder ($XDG_CACHE_HOME/nn-train, else
 * ~/.cache/nn-train), falling back to <tmp>/nn-train-cache-<user>. Never inside the data folder: data
 * sets are often shared or read-only, and a cache inside them would be listed as data by other tools.
 */
import { createHash } from 'node:crypto';
import { constants, accessSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DECODER_ID, bytesPerImage, type DecodeSettings } from './decode.ts';
import { resizeOf } from './preprocessing.ts';
import { makeFolder, removeStaleTempFiles, writeFileAtomic } from '../files.ts';

export const CACHE_MAGIC = 'NNTCACHE';
export const CACHE_FORMAT_VERSION = 1;
const PREFIX_BYTES = 56;

export interface CacheHeader {
  key: string;
  width: number;
  height: number;
  channels: 1 | 3;
  fit: string;
  count: number;
  /** Relative paths ('/' separators) of the N decoded images, in dataset order. */
  relativePaths: string[];
  /** Files that failed to decode when the cache was built (they are part of the key, so still broken). */
  skipped: { relativePath: string; reason: string }[];
}

export interface CacheContents {
  header: CacheHeader;
  labels: Uint8Array;
  /** (N, width * height * channels), a view into the bytes read from the file. */
  pixels: Uint8Array;
}

/** One file's identity for the cache key. */
export interface FileStamp {
  relativePath: string;
  size: number;
  mtimeMs: number;
}

/** Size and modification time of each file; -1 for entries that are not readable regular files. */
export function stampFiles(files: readonly { path: string; relativePath: string }[]): FileStamp[] {
  return files.map(({ path, relativePath }) => {
    try {
      const s = statSync(path);
      return { relativePath, size: s.isFile() ? s.size : -1, mtimeMs: s.isFile() ? s.mtimeMs : -1 };
    } catch {
      return { relativePath, size: -1, mtimeMs: -1 };
    }
  });
}

/** The key of a data set as it is now (see the module comment). */
export function cacheKey(stamps: readonly FileStamp[], settings: DecodeSettings, limit: number | null): string {
  const hash = createHash('sha256');
  const { width, height, channels, fit } = settings;
  hash.update(JSON.stringify({ decoder: DECODER_ID, width, height, channels, fit, resize: resizeOf(settings), limit }));
  for (const s of stamps) hash.update(`\n${s.relativePath}\t${s.size}\t${s.mtimeMs}`);
  return hash.digest('hex');
}

/** The user's cache folder for nn-train (see the module comment); created if needed. */
export function defaultCacheDir(): string {
  const candidates: string[] = [];
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '') candidates.push(join(xdg, 'nn-train'));
  try {
    candidates.push(join(homedir(), '.cache', 'nn-train'));
  } catch {
    // no home folder (some containers): only the temp folder remains
  }
  let user = 'user';
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_') || user;
  } catch {
    // keep the generic name
  }
  candidates.push(join(tmpdir(), `nn-train-cache-${user}`));
  for (const dir of candidates) {
    try {
      makeFolder(dir);
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // try the next one
    }
  }
  return candidates[candidates.length - 1]!;
}

/**
 * The cache file for a data folder: readable name, plus a hash of the folder's absolute path so that
 * two folders named "train" do not share a file. Settings are in the name too (the resize when it is
 * not the default 'linear'), so switching between two image sizes keeps both caches.
 */
export function cacheFileName(dataDir: string, settings: DecodeSettings, limit: number | null): string {
  const abs = resolve(dataDir);
  const id = createHash('sha256').update(abs).digest('hex').slice(0, 12);
  const name = (basename(abs) || 'root').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  const { width, height, channels, fit } = settings;
  const resize = resizeOf(settings) === 'linear' ? '' : `-${resizeOf(settings)}`;
  return `${name}-${id}-${width}x${height}x${channels}-${fit}${resize}${limit !== null ? `-limit${limit}` : ''}.nncache`;
}

/** A usable cache, or why not; `missing` is true when there is simply no file yet (nothing to report). */
export type CacheRead = { ok: true; contents: CacheContents } | { ok: false; missing: boolean; problem: string };

/**
 * Reads and checks a cache file against the expected key and settings. Returns the contents, or the
 * reason it cannot be used ("no cache file yet", "checksum mismatch", "data changed since", ...).
 */
export function readCache(file: string, key: string, settings: DecodeSettings): CacheRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT', problem: code === 'ENOENT' ? 'no cache file yet' : `cannot read it (${code ?? String(err)})` };
  }
  if (bytes.length < PREFIX_BYTES || bytes.toString('latin1', 0, 8) !== CACHE_MAGIC) {
    return { ok: false, missing: false, problem: 'not an nn-train cache file' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CACHE_FORMAT_VERSION) return { ok: false, missing: false, problem: `cache format ${version}, expected ${CACHE_FORMAT_VERSION}` };
  const headerBytes = view.getUint32(12, true);
  const payloadBytes = Number(view.getBigUint64(16, true));
  if (bytes.length !== PREFIX_BYTES + headerBytes + payloadBytes) {
    return { ok: false, missing: false, problem: `length ${bytes.length} bytes, header says ${PREFIX_BYTES + headerBytes + payloadBytes} (truncated?)` };
  }
  const digest = createHash('sha256').update(bytes.subarray(PREFIX_BYTES)).digest();
  if (!digest.equals(bytes.subarray(24, PREFIX_BYTES))) return { ok: false, missing: false, problem: 'checksum mismatch (corrupt file)' };

  let header: CacheHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as CacheHeader;
  } catch {
    return { ok: false, missing: false, problem: 'unreadable header' };
  }
  if (header.key !== key) return { ok: false, missing: false, problem: 'the images or settings changed since it was written' };
  const { width, height, channels, fit } = settings;
  const n = header.count;
  if (
    header.width !== width ||
    header.height !== height ||
    header.channels !== channels ||
    header.fit !== fit ||
    !Number.isInteger(n) ||
    !Array.isArray(header.relativePaths) ||
    header.relativePaths.length !== n ||
    !Array.isArray(header.skipped) ||
    payloadBytes !== n + n * bytesPerImage(settings)
  ) {
    return { ok: false, missing: false, problem: 'header does not match its contents' };
  }
  const start = bytes.byteOffset + PREFIX_BYTES + headerBytes;
  const labels = new Uint8Array(bytes.buffer, start, n);
  for (let i = 0; i < n; i++) if (labels[i]! > 1) return { ok: false, missing: false, problem: 'bad label in payload' };
  const pixels = new Uint8Array(bytes.buffer, start + n, n * bytesPerImage(settings));
  return { ok: true, contents: { header, labels, pixels } };
}

/**
 * Writes a cache file atomically (src/files.ts: temp file, fsync, rename), so a crash leaves the
 * old file or the new one, never a torn one.
 */
export function writeCache(file: string, contents: CacheContents): void {
  const { header, labels, pixels } = contents;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(CACHE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CACHE_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  prefix.writeBigUInt64LE(BigInt(labels.length + pixels.length), 16);
  createHash('sha256').update(json).update(labels).update(pixels).digest().copy(prefix, 24);
  makeFolder(dirname(file));
  removeStaleTempFiles(dirname(file)); // a cache write killed midway left a temp file as large as a cache
  writeFileAtomic(file, [prefix, json, labels, pixels]);
}
