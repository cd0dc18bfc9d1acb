/**
 * What nn-eval writes on stdout, one formatter per format. Each turns a batch of predictions
 * into text that is written at once (so lines come out as results are ready); Kaggle's
 * submission must be sorted by id, so that one keeps (id, p) pairs and writes them at the end.
 *
 *   tsv     path<TAB>p_dog<TAB>label              no header; tab, newline, CR and backslash in a
 *                                                 path are written as \t \n \r \\
 *   csv     path,p_dog,label                      header line; RFC 4180 quoting
 *   jsonl   {"path":..,"p_dog":..,"label":..,"actual":..}   actual: "cat", "dog" or null
 * Probabilities always have PROBABILITY_DECIMALS decimals.
 *   kaggle  id,label                              header; label = p_dog clipped to [c, 1-c];
 *                                                 rows sorted by the numeric id of N.jpg
 */
import { basename } from 'node:path';
import { UserError } from '../errors.ts';

export const FORMAT_NAMES = ['tsv', 'csv', 'jsonl', 'kaggle'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** One image's answer. `actual` is the label known from its name or folder (1 dog, 0 cat), if any. */
export interface Prediction {
  path: string;
  pDog: number;
  actual: 0 | 1 | null;
}

export interface Formatter {
  /** Text before the first batch (a header, or ""). */
  header(): string;
  /** Text for one batch of predictions, in input order. */
  batch(predictions: readonly Prediction[]): string;
  /** Text after the last batch (Kaggle's sorted rows, or ""). */
  end(): string;
}

export interface FormatOptions {
  threshold: number;
  clip: number;
}

export function labelName(pDog: number, threshold: number): 'cat' | 'dog' {
  return pDog >= threshold ? 'dog' : 'cat';
}

/** Decimals of every probability nn-eval writes: columns line up, and `sort -g` or a spreadsheet reads them alike. */
export const PROBABILITY_DECIMALS = 6;

/** A probability with PROBABILITY_DECIMALS decimals: "0.973412", "0.000000", "1.000000". */
export function formatProbability(p: number): string {
  return p.toFixed(PROBABILITY_DECIMALS);
}

export function escapeTsv(field: string): string {
  return field.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
}

/**
 * Text for a message on the terminal: control characters (a newline or an escape sequence in a file
 * name, bytes of an image piped in by mistake) are shown as \n, \r, \t or \xHH / \uHHHH, so that a
 * message stays one line and cannot drive the terminal. Backslashes are left alone (people read these).
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

export function unescapeTsv(field: string): string {
  return field.replace(/\\([\\tnr])/g, (_, ch: string) => (ch === 't' ? '\t' : ch === 'n' ? '\n' : ch === 'r' ? '\r' : '\\'));
}

/** RFC 4180: a field holding a comma, quote, CR or LF (or leading/trailing space) is quoted, quotes doubled. */
export function escapeCsv(field: string): string {
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function clipProbability(p: number, clip: number): number {
  return Math.min(Math.max(p, clip), 1 - clip);
}

const IMAGE_NAME = /^(\d+)\.[^.]+$/;

/** Kaggle's id of an image: the N of "N.jpg" (any extension), or null when the name is not of that form. */
export function kaggleId(path: string): number | null {
  const m = IMAGE_NAME.exec(basename(path));
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

function lines(predictions: readonly Prediction[], line: (p: Prediction) => string): string {
  let text = '';
  for (const p of predictions) text += line(p) + '\n';
  return text;
}

class KaggleFormatter implements Formatter {
  // Parallel arrays: two numbers per image, so 25,000 images cost a few hundred kilobytes.
  private ids: number[] = [];
  private probabilities: number[] = [];
  private pathOfId = new Map<number, string>();

  constructor(private readonly clip: number) {}

  header(): string {
    return '';
  }

  /** Checks a name before its image is decoded, so a wrong input fails early (and before any output). */
  accept(path: string): void {
    const id = kaggleId(path);
    if (id === null) throw new UserError(`${path}: --format kaggle needs images named N.jpg (N = the Kaggle id), as in the test1 folder`);
    const seen = this.pathOfId.get(id);
    if (seen !== undefined) throw new UserError(`${path}: id ${id} is given twice (also ${seen}); a submission has one row per id`);
    this.pathOfId.set(id, path);
  }

  batch(predictions: readonly Prediction[]): string {
    for (const p of predictions) {
      this.ids.push(kaggleId(p.path)!);
      this.probabilities.push(p.pDog);
    }
    return '';
  }

  end(): string {
    const order = this.ids.map((_, i) => i).sort((a, b) => this.ids[a]! - this.ids[b]!);
    let text = 'id,label\n';
    for (const i of order) text += `${this.ids[i]},${formatProbability(clipProbability(this.probabilities[i]!, this.clip))}\n`;
    return text;
  }
}

const ACTUAL = ['cat', 'dog'] as const;

export function createFormatter(format: FormatName, options: FormatOptions): Formatter & { accept?: (path: string) => void } {
  const { threshold } = options;
  switch (format) {
    case 'tsv':
      return {
        header: () => '',
        batch: (ps) => lines(ps, (p) => `${escapeTsv(p.path)}\t${formatProbability(p.pDog)}\t${labelName(p.pDog, threshold)}`),
        end: () => '',
      };
    case 'csv':
      return {
        header: () => 'path,p_dog,label\n',
        batch: (ps) => lines(ps, (p) => `${escapeCsv(p.path)},${formatProbability(p.pDog)},${labelName(p.pDog, threshold)}`),
        end: () => '',
      };
    case 'jsonl':
      return {
        header: () => '',
        // Written by hand so that p_dog keeps its fixed decimals (JSON.stringify would print 0.5).
        batch: (ps) =>
          lines(
            ps,
            (p) =>
              `{"path":${JSON.stringify(p.path)},"p_dog":${formatProbability(p.pDog)},"label":"${labelName(p.pDog, threshold)}",` +
              `"actual":${p.actual === null ? 'null' : `"${ACTUAL[p.actual]}"`}}`,
          ),
        end: () => '',
      };
    case 'kaggle':
      return new KaggleFormatter(options.clip);
  }
}
