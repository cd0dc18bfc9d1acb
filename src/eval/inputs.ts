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
import { basename, dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
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

/** Lines of a stream as they arrive, without line ends (LF or CRLF); blank lines are dropped. */
export async function* readLines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() !== '') yield line;
  }
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
      throw new UserError(`${input}: ${describeFsError(err)}`);
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

/** A path read from stdin: a file as it is, a folder expanded, a missing path reported (skipped). */
async function* fromStdinPath(path: string, sources: InputSources): AsyncGenerator<InputItem> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (err) {
    yield { kind: 'unreadable', path, reason: describeFsError(err) };
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
