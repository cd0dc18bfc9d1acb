/**
 * Finding the images of a data set and their labels.
 *
 * Two layouts are understood, and may be mixed:
 *   - Kaggle's: `cat.123.jpg`, `dog.45.jpg`: the label is the word before the first dot (any case);
 *   - class folders: `cats/IMG_1.jpg`, `Dog/x.png`: the nearest enclosing folder (the root included)
 *     named cat, cats, dog or dogs (any case) gives the label.
 * When both apply, the file name wins (it is the more specific). dog = 1, cat = 0; anything else
 * is unlabeled (null): fine for prediction, left out of training.
 *
 * Folders are searched recursively. Files ending in .jpg .jpeg .png .webp (any case) are images;
 * names starting with a dot (`.DS_Store`, macOS `._x.jpg` shadows, our own cache folders) are ignored.
 * An entry with an image name that is not a readable file (a folder named `x.jpg`, a dangling link)
 * is still listed, so that decoding reports it by name instead of it silently vanishing.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { describeFsError, UserError } from '../errors.ts';

/** dog = 1, cat = 0 (the network's output is the probability of "dog"). */
export type Label = 0 | 1;

export const LABEL_NAMES = ['cat', 'dog'] as const;

export interface ImageFile {
  /** The root given to findImages joined with the path below it (so relative roots stay relative). */
  path: string;
  /** Path below the root with '/' separators: stable across machines, used for cache keys and the split. */
  relativePath: string;
  label: Label | null;
}

export interface FoundImages {
  root: string;
  /** Every image file found, in natural sort order of relativePath (see compareNatural). */
  files: ImageFile[];
  /** Sub-folders that could not be read, with the reason; their images are missing from `files`. */
  unreadable: { path: string; reason: string }[];
}

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

export function isImageName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** Label from a Kaggle file name: the word before the first dot, "cat" or "dog" in any case. */
export function labelFromFileName(name: string): Label | null {
  const dot = name.indexOf('.');
  if (dot <= 0) return null;
  const word = name.slice(0, dot).toLowerCase();
  return word === 'dog' ? 1 : word === 'cat' ? 0 : null;
}

/** Label from a class folder name: cat, cats, dog, dogs in any case. */
export function labelFromFolderName(name: string): Label | null {
  const word = name.toLowerCase();
  if (word === 'dog' || word === 'dogs') return 1;
  if (word === 'cat' || word === 'cats') return 0;
  return null;
}

/**
 * Compares two strings so that embedded numbers sort by value ("cat.2.jpg" before "cat.10.jpg") and
 * letter case is ignored at first ("Cats/" next to "cat.1.jpg"). Locale-free (ASCII case folding,
 * code units otherwise), so the order is the same on every machine; strings that compare equal that
 * way (case or leading zeros apart) fall back to plain code-unit order, so the order is total.
 */
export function compareNatural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ie = i;
      while (ie < a.length && isDigit(a.charCodeAt(ie))) ie++;
      let je = j;
      while (je < b.length && isDigit(b.charCodeAt(je))) je++;
      // Compare the runs by value: strip leading zeros, then longer is larger, then digit by digit.
      let is = i;
      while (is < ie - 1 && a.charCodeAt(is) === 48) is++;
      let js = j;
      while (js < je - 1 && b.charCodeAt(js) === 48) js++;
      if (ie - is !== je - js) return ie - is - (je - js);
      for (let k = 0; k < ie - is; k++) {
        const d = a.charCodeAt(is + k) - b.charCodeAt(js + k);
        if (d !== 0) return d;
      }
      i = ie;
      j = je;
    } else {
      const d = foldCase(ca) - foldCase(cb);
      if (d !== 0) return d;
      i++;
      j++;
    }
  }
  if (a.length - i !== b.length - j) return a.length - i - (b.length - j);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ASCII upper case to lower case; every other code unit unchanged. */
function foldCase(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Lists the images under `root` (recursively) with their labels, sorted deterministically.
 * Throws a UserError naming the path when `root` is missing or not a folder.
 */
export async function findImages(root: string): Promise<FoundImages> {
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch (err) {
    throw new UserError(`${root}: cannot read the image folder: ${describeFsError(err)}`);
  }
  if (!rootStat.isDirectory()) throw new UserError(`${root}: not a folder (expected a folder of images)`);

  const files: ImageFile[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  // Real paths of the folders visited, so that a symbolic link back up the tree cannot loop forever.
  const visited = new Set<string>();

  async function walk(dir: string, rel: string, folderLabel: Label | null): Promise<void> {
    let real: string;
    let entries: Dirent[];
    try {
      real = await realpath(dir);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // The folder the user named must be readable; an unreadable sub-folder is reported and skipped.
      if (rel === '') throw new UserError(`${root}: cannot read the image folder: ${describeFsError(err)}`);
      unreadable.push({ path: dir, reason: describeFsError(err) });
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const relativePath = rel === '' ? name : `${rel}/${name}`;
      if (isImageName(name)) {
        // Listed whatever it turns out to be (file, folder, dangling link): decoding reports the bad ones.
        files.push({ path, relativePath, label: labelFromFileName(name) ?? folderLabel });
        continue;
      }
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        isDir = await stat(path).then(
          (s) => s.isDirectory(),
          () => false, // a dangling link without an image name: not ours to report
        );
      }
      if (isDir) await walk(path, relativePath, labelFromFolderName(name) ?? folderLabel);
    }
  }

  await walk(root, '', labelFromFolderName(basename(await realpath(root))));
  files.sort((a, b) => compareNatural(a.relativePath, b.relativePath));
  unreadable.sort((a, b) => compareNatural(a.path, b.path));
  return { root, files, unreadable };
}
