/**
 * Which images nn-eval predicts, in which order: the inputs as given, each folder expanded to its
 * images (recursively, sorted), and "-" replaced by the paths read from stdin, one per line, as
 * they arrive (so `find ... | nn-eval model.json -` starts before find is done).
 *
 * Paths on the command line are checked before anything is written: a missing one is a usage
 * error (exit 2). A path read from stdin that cannot be read is reported and skipped like a
 * broken image, since earlier lines may already be out.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { findImages, labelFromFileName, labelFromFolderName } from '../data/find.ts';
import { describeFsError, UserError } from '../errors.ts';

/** An image to predict; `actual` is its label from its name or folder (1 dog, 0 cat), or null. */
export interface InputImage {
  path: string;
  actual: 0 | 1 | null;
}

/** Lists the images of a folder (recursively, sorted, with labels), and the parts that cannot be read. */
export type FolderLister = (dir: string) => Promise<InputItem[]>;

/** Labels a single file given by path (a name such as dog.12.jpg, or a folder dogs/). */
export type FileLabeler = (path: string) => 0 | 1 | null;

export interface InputSources {
  listFolder: FolderLister;
  labelFile: FileLabeler;
  /** Where "-" reads paths from (a function, so that stdin is only opened when "-" is given). */
  stdin: () => NodeJS.ReadableStream;
}

/** A file to try, or a path that cannot be used, with the reason (reported and counted as skipped). */
export type InputItem = { kind: 'image'; image: InputImage } | { kind: 'unreadable'; path: string; reason: string };

/**
 * The label of a file given by path, as training would see it (src/data/find.ts): its name
 * (cat.N.jpg, dog.N.jpg), else its folder (cat, cats, dog, dogs; any case).
 */
export function labelOfFile(path: string): 0 | 1 | null {
  return labelFromFileName(basename(path)) ?? labelFromFolderName(basename(dirname(resolve(path))));
}

/** A folder's images as training finds them (recursive, natural sort, labels), unreadable sub-folders first. */
export async function listImageFolder(dir: string): Promise<InputItem[]> {
  const found = await findImages(dir);
  const items: InputItem[] = found.unreadable.map((u) => ({ kind: 'unreadable', path: u.path, reason: `cannot read this folder: ${u.reason}` }));
  for (const f of found.files) items.push({ kind: 'image', image: { path: f.path, actual: f.label } });
  return items;
}

/**
 * Longest line taken as a path. Linux paths stop at 4096 bytes; a longer line means stdin is not a
 * list of paths (an image piped in by mistake, /dev/zero), and must not be buffered without end.
 */
export const MAX_LINE = 16384;

function notAList(why: string): UserError {
  return new UserError(`-: stdin is not a list of paths, one per line (${why})`);
}

/**
 * Lines of a stream as they arrive, without line ends (LF or CRLF); blank lines are dropped.
 * Binary data (a NUL byte, as in an image or `find -print0`) or a line longer than MAX_LINE is a
 * UserError, as is a stream that cannot be read (stdin redirected from a folder).
 */
export async function* readLines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const line = (raw: string): string => (raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  try {
    for await (const chunk of stream) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      if (text.includes('\0')) throw notAList('it holds a NUL byte: binary data, or find -print0');
      pending += text;
      let start = 0;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
        const l = line(pending.slice(start, end));
        start = end + 1;
        if (l.length > MAX_LINE) throw notAList(`a line of ${l.length} characters`);
        if (l.trim() !== '') yield l;
      }
      pending = pending.slice(start);
      if (pending.length > MAX_LINE) throw notAList(`a line of more than ${MAX_LINE} characters`);
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`-: cannot read the paths on stdin: ${describeFsError(err)}`);
  }
  const last = line(pending + decoder.end());
  if (last.trim() !== '') yield last;
}


/**
 * The command-line inputs resolved before anything is written: files labeled, folders listed,
 * "-" kept as a marker. Throws a UserError naming the first missing path or empty folder.
 * (The lists hold paths only: 25,000 images are a few megabytes.)
 */
export type InputPlan = Array<InputItem[] | 'stdin'>;

export async function planInputs(inputs: readonly string[], sources: Pick<InputSources, 'listFolder' | 'labelFile'>): Promise<InputPlan> {
  const plan: InputPlan = [];
  for (const input of inputs) {
    if (input === '-') {
      plan.push('stdin');
      continue;
    }
    let isFolder: boolean;
    try {
      isFolder = (await stat(input)).isDirectory();
    } catch (err) {
      throw new UserError(`${input}: ${describePathError(input, err)}`);
    }
    if (!isFolder) {
      plan.push([{ kind: 'image', image: { path: input, actual: sources.labelFile(input) } }]);
      continue;
    }
    const items = await sources.listFolder(input);
    if (items.length === 0) throw new UserError(`${input}: no images in this folder (looked for .jpg .jpeg .png .webp, recursively)`);
    plan.push(items);
  }
  return plan;
}

/** How many images the plan holds, or null when stdin is part of it (unknown until read). */
export function plannedCount(plan: InputPlan): number | null {
  let n = 0;
  for (const part of plan) {
    if (part === 'stdin') return null;
    n += part.length;
  }
  return n;
}

/** The reason a path cannot be used, naming the two ways a list of paths typically goes wrong. */
function describePathError(path: string, err: unknown): string {
  const reason = describeFsError(err);
  if ((err as NodeJS.ErrnoException | null)?.code !== 'ENOENT') return reason;
  // Node.js reads names as UTF-8: bytes in another encoding become U+FFFD, a name that does not exist.
  if (path.includes('\ufffd')) return `${reason} (the name is not valid UTF-8: rename the file)`;
  // Spaces around a name are kept (a file may have them), but are more often a sloppy list.
  if (path.trim() !== path) return `${reason} (the line has spaces at its start or end)`;
  return reason;
}

/**
 * A path read from stdin: a file as it is, a folder expanded, a missing path reported (skipped).
 * Relative paths are relative to the current folder, as on the command line; a missing one names
 * that folder, since a list made elsewhere (`ls photos | nn-eval model.json -` gives bare names)
 * is the usual cause.
 */
async function* fromStdinPath(path: string, sources: InputSources): AsyncGenerator<InputItem> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (err) {
    const relative = !isAbsolute(path) && (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
    const reason = describePathError(path, err) + (relative ? ` in ${process.cwd()} (the current folder, which relative paths on stdin start from)` : '');
    yield { kind: 'unreadable', path, reason };
    return;
  }
  if (!isFolder) {
    yield { kind: 'image', image: { path, actual: sources.labelFile(path) } };
    return;
  }
  yield* await sources.listFolder(path);
}

/** The inputs in order: the planned files and folders, and the paths read from stdin as they arrive. */
export async function* inputItems(plan: InputPlan, sources: InputSources): AsyncGenerator<InputItem> {
  for (const part of plan) {
    if (part === 'stdin') {
      for await (const line of readLines(sources.stdin())) yield* fromStdinPath(line, sources);
    } else {
      yield* part;
    }
  }
}
