// Inputs nn-eval was not shipped with, found by adversarial testing, each once a bug:
//   - a named pipe or a link to a device named x.jpg hung the run (open blocks, or reads forever);
//   - binary data on stdin (`cat photo.jpg | nn-eval m.json -`, `< /dev/zero`) printed raw bytes to
//     the terminal or died with a stack trace (readline buffering an endless line);
//   - file names holding a newline or an escape sequence split or coloured the one-line messages;
//   - a model file with a byte-order mark was refused, binary or control characters made a message
//     of several lines, a checkpoint (last.json) was only "not an nn-train model file", and a scale or
//     std that makes the inputs infinite was accepted;
//   - --metrics renamed its temporary file over whatever was there (a symbolic link, /dev/null, a
//     device), accepted a folder or the model itself until after the output was written;
//   - a full stdout was a stack trace, a full stderr lost the exit code of a complete run;
//   - HEIC, BMP or an HTML page saved as .jpg were all "not an image (unrecognised format)";
//   - a name that is not valid UTF-8 was only "no such file or folder".
// Unit checks run on the sources; the end-to-end ones run the built command (`npm test` builds it),
// as test/nn-eval-cli.test.ts does. NN_EVAL_PACKAGE may point at another build of the package.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageBytes, ImageDecodeError, readImageFileSync } from '../src/data/decode.ts';
import { parseEvalCli } from '../src/cli/eval-options.ts';
import { UserError } from '../src/errors.ts';
import { printable } from '../src/eval/formats.ts';
import { listImageFolder, readLines } from '../src/eval/inputs.ts';
import { decodeModel, encodeModel, writeModelFile } from '../src/io/model-file.ts';
import { makeTempDir, removeTempDir } from './helpers/images.ts';
import { builtPackage, runShell, sh, handSetModel } from './nn-eval-helpers.ts';

const settings = { width: 4, height: 4, channels: 3 as const, fit: 'fill' as const };
const linux = process.platform === 'linux';

/** Whether the temp folder's file system takes a file name that is not valid UTF-8 (Latin-1 "café"). */
function acceptsLatin1Names(): boolean {
  const probe = makeTempDir('nn-eval-latin1-');
  try {
    writeFileSync(Buffer.from(`${probe}/caf\xe9`, 'latin1'), 'x');
    return true;
  } catch {
    return false;
  } finally {
    removeTempDir(probe);
  }
}


let dir: string;
let evalCmd: string;

async function grey(path: string, v: number): Promise<void> {
  await sharp({ create: { width: 6, height: 5, channels: 3, background: { r: v, g: v, b: v } } })
    .png()
    .toFile(path);
}

async function run(args: string, options: { input?: string } = {}) {
  return runShell(`${evalCmd} ${args}`, { cwd: dir, timeoutMs: 30_000, ...options });
}

/** One line per message, no stack trace, no raw control character. */
function expectCleanStderr(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Error:|node:internal/);
  expect(stderr.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
}

beforeAll(async () => {
  const pkg = process.env.NN_EVAL_PACKAGE ?? (await builtPackage());
  evalCmd = `node ${sh(join(pkg, 'bin', 'nn-eval.js'))}`;
  dir = makeTempDir('nn-eval-inputs-');
  writeModelFile(join(dir, 'model.json'), handSetModel());
  mkdirSync(join(dir, 'imgs'));
  await grey(join(dir, 'imgs', 'cat.1.png'), 30);
  await grey(join(dir, 'imgs', 'dog.2.png'), 200);
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('files that are not regular files', () => {
  it.runIf(linux)('a named pipe called x.jpg is skipped at once instead of blocking the run', async () => {
    const fifo = join(dir, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    await expect(decodeImage(fifo, settings)).rejects.toThrow(new ImageDecodeError(fifo, 'not a regular file (a named pipe)'));
    expect(() => readImageFileSync(fifo)).toThrow('not a regular file (a named pipe)');
  });

  it.runIf(existsSync('/dev/zero'))('a link to a device (/dev/zero, endless) is skipped, not read until memory runs out', async () => {
    const link = join(dir, 'zero.jpg');
    symlinkSync('/dev/zero', link);
    await expect(decodeImage(link, settings)).rejects.toThrow('not a regular file (a device)');
    expect(() => readImageFileSync(link)).toThrow('not a regular file (a device)');
  });

  it.runIf(linux)('end to end: a folder holding both goes through, every other image predicted', async () => {
    mkdirSync(join(dir, 'special'));
    await grey(join(dir, 'special', 'a.png'), 100);
    execFileSync('mkfifo', [join(dir, 'special', 'b.jpg')]);
    if (existsSync('/dev/zero')) symlinkSync('/dev/zero', join(dir, 'special', 'c.jpg'));
    const r = await run('model.json special');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^special\/a\.png\t0\.2967\d*\tcat\n$/);
    expect(r.stderr).toMatch(/^nn-eval: skipped special\/b\.jpg: not a regular file \(a named pipe\)$/m);
    expectCleanStderr(r.stderr);
  });
});

describe('formats that are not read, named', () => {
  const bmp = (): Buffer => {
    // A 2x1 24-bit BMP: file header, info header, one padded row.
    const b = Buffer.alloc(54 + 8);
    b.write('BM');
    b.writeUInt32LE(b.length, 2);
    b.writeUInt32LE(54, 10);
    b.writeUInt32LE(40, 14);
    b.writeInt32LE(2, 18);
    b.writeInt32LE(1, 22);
    b.writeUInt16LE(1, 26);
    b.writeUInt16LE(24, 28);
    return b;
  };
  const cases: [string, Buffer, RegExp][] = [
    ['BMP', bmp(), /^unsupported image format \(BMP\): convert it to JPEG, PNG or WebP$/],
    // An iPhone photo's first box: size, "ftyp", brand "heic" (this sharp build has no HEVC decoder).
    ['HEIC', Buffer.concat([Buffer.from('00000018667479706865696300000000', 'hex'), Buffer.from('mif1heic'), Buffer.alloc(64)]), /^unsupported image format \(HEIC\/HEIF\)/],
    ['HTML', Buffer.from('<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n'), /^not an image \(an HTML page, perhaps a failed download\)$/],
    ['text', Buffer.from('just some text\n'), /^not an image \(unrecognised format\)$/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`${name} saved as .jpg`, async () => {
      const error = await decodeImageBytes('x.jpg', bytes, settings).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ImageDecodeError);
      expect((error as ImageDecodeError).reason).toMatch(reason);
    });
  }
});

describe('paths on stdin', () => {
  async function lines(stream: NodeJS.ReadableStream): Promise<string[]> {
    const out: string[] = [];
    for await (const l of readLines(stream)) out.push(l);
    return out;
  }

  it('binary data (a NUL byte) is a usage error, not paths full of control characters', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).jpeg().toBuffer();
    await expect(lines(Readable.from([Buffer.from('ok.jpg\n'), jpeg]))).rejects.toThrow(
      new UserError('-: stdin is not a list of paths, one per line (it holds a NUL byte: binary data, or find -print0)'),
    );
  });

  it('an endless line (stdin from /dev/zero without NULs: yes | tr -d "\\n") stops at MAX_LINE, not at out of memory', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(4096, 'a'));
      },
    });
    await expect(lines(endless)).rejects.toThrow(/^-: stdin is not a list of paths, one per line \(a line of more than 16384 characters\)$/);
  });

  it('UTF-8 characters split between chunks and CRLF line ends still give the names', async () => {
    const bytes = Buffer.from('chat/ünïcødé 猫.jpg\r\n\r\n  \nb.jpg');
    const split = new PassThrough();
    const done = lines(split);
    for (let i = 0; i < bytes.length; i += 3) split.write(bytes.subarray(i, i + 3));
    split.end();
    expect(await done).toEqual(['chat/ünïcødé 猫.jpg', 'b.jpg']);
  });

  it('end to end: `cat photo | nn-eval model.json -` is one line and exit 2', async () => {
    const r = await runShell(`cat imgs/dog.2.png | ${evalCmd} model.json -`, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('nn-eval: -: stdin is not a list of paths, one per line (it holds a NUL byte: binary data, or find -print0)\n');
  });
});

describe('names with control characters or in another encoding', () => {
  it('printable() keeps a message on one line and escape codes off the terminal', () => {
    expect(printable('a\nb\tc\r\u001b[31md\u0085e\u2028f\\g')).toBe('a\\nb\\tc\\r\\x1b[31md\\x85e\\u2028f\\g');
  });

  it('end to end: each skipped file with a newline or an escape code in its name is one line', async () => {
    mkdirSync(join(dir, 'odd'));
    await grey(join(dir, 'odd', 'fine.png'), 100);
    writeFileSync(join(dir, 'odd', 'two\nlines.jpg'), 'not an image');
    writeFileSync(join(dir, 'odd', 'red\u001b[31m.jpg'), 'not an image');
    const r = await run('model.json odd');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^nn-eval: skipped odd\/red\\x1b\[31m\.jpg: not an image \(unrecognised format\)$/m);
    expect(r.stderr).toMatch(/^nn-eval: skipped odd\/two\\nlines\.jpg: not an image \(unrecognised format\)$/m);
    expectCleanStderr(r.stderr);
    const missing = await run(`model.json ${sh('odd/no\nsuch.jpg')}`);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: 'nn-eval: odd/no\\nsuch.jpg: no such file or folder\n' });
  });

  // A file system that refuses such names (some do) has none of them to report.
  it.runIf(linux && acceptsLatin1Names())('a name that is not valid UTF-8 is reported as such, not as missing (needs a file system that takes such names)', async () => {
    const folder = join(dir, 'latin1');
    mkdirSync(folder);
    writeFileSync(Buffer.from(`${folder}/caf\xe9.jpg`, 'latin1'), 'x');
    const items = await listImageFolder(folder);
    expect(items).toHaveLength(1);
    const path = items[0]!.kind === 'image' ? items[0]!.image.path : '';
    expect(path).toContain('\ufffd');
    await expect(decodeImage(path, settings)).rejects.toThrow('cannot be opened: its name is not valid UTF-8 (rename the file)');
  });
});

describe('usage errors', () => {
  it("a misspelt option with commander's suggestion is still one line", () => {
    expect(() => parseEvalCli(['m.json', 'x', '--thresold', '0.3'])).toThrow(
      new UserError("unknown option '--thresold' (Did you mean --threshold?) (see nn-eval --help)"),
    );
  });
});

describe('model files people actually have', () => {
  const text = encodeModel(handSetModel());
  const error = (t: string): string => {
    try {
      decodeModel(t);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('a byte-order mark (Windows editors) is ignored', () => {
    expect(decodeModel('\ufeff' + text).params).toEqual(handSetModel().params);
  });

  it('binary data, UTF-16 and control characters give one line, and "truncated" only when it is', () => {
    expect(error('\u0000\u0000\u0000 {}')).toBe('not a JSON text file (it holds binary data, or text that is not UTF-8)');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]).toString('utf8');
    expect(error(utf16)).toBe('not a JSON text file (it holds binary data, or text that is not UTF-8)');
    const ctrl = error('{"format":\n\u0001}');
    expect(ctrl).toMatch(/^not valid JSON \(.*\\u000a\\u0001.*\)$/);
    expect(ctrl).not.toMatch(/[\u0000-\u001f]|truncated/);
    expect(error(text.trimEnd() + ' extra')).not.toMatch(/truncated/);
    expect(error(text.slice(0, 120))).toMatch(/truncated$/);
  });

  it('a checkpoint (last.json) given instead of the model says which file to give', () => {
    expect(error('{"format":"nn-train-checkpoint","version":1}')).toBe(
      'format: this is a training checkpoint (last.json), not a model: give the model.json of the same run folder',
    );
  });

  it('a scale or std that makes the network inputs zero, negative or infinite is refused, naming the field', () => {
    const withPre = (pre: Record<string, unknown>): string => {
      const doc = JSON.parse(text) as { preprocessing: Record<string, unknown> };
      Object.assign(doc.preprocessing, pre);
      return error(JSON.stringify(doc));
    };
    expect(withPre({ scale: 0 })).toBe('preprocessing.scale: expected a positive number, found 0');
    expect(withPre({ scale: -1 / 255 })).toMatch(/^preprocessing\.scale: expected a positive number/);
    expect(withPre({ scale: 1e300 })).toMatch(/^preprocessing\.scale: makes the input of pixel value 255 [0-9.e+]+, beyond float32/);
    expect(withPre({ mean: [0.5, 0.5, 0.5], std: [1, 1e-300, 1] })).toMatch(/^preprocessing\.std\[1\]: makes the input of pixel value 0 /);
    expect(withPre({ mean: [0.5, 0.5, 0.5], std: [0.1, 0.2, 0.3] })).toBe('no error');
  });

  it('end to end: a run folder given instead of its model.json points at the file', async () => {
    mkdirSync(join(dir, 'run'));
    writeModelFile(join(dir, 'run', 'model.json'), handSetModel());
    const r = await run('run imgs');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe("nn-eval: run: cannot read the model file: is a folder, expected a file (the run's model is run/model.json)\n");
  });
});

describe('--metrics targets', () => {
  it('a folder, or the model file itself: exit 2 before any output, the model intact', async () => {
    mkdirSync(join(dir, 'out'));
    for (const [target, why] of [
      ['out', 'is a folder, expected a file'],
      ['out/', 'is a folder, expected a file'],
      ['new/', 'ends with /, expected a file name'],
      ['./model.json', 'it is the model file'],
    ]) {
      const r = await run(`model.json imgs --metrics ${target}`);
      expect({ target, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ target, code: 2, stdout: '', stderr: `nn-eval: ${target}: cannot write the metrics: ${why}\n` });
    }
    expect(readFileSync(join(dir, 'model.json'), 'utf8')).toBe(encodeModel(handSetModel()));
    const empty = await run("model.json imgs --metrics ''");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^nn-eval: option '--metrics <file>' argument '' is invalid\. expected a file name/);
  });

  it('a symbolic link to a file stays a link; the file it points to is replaced', async () => {
    writeFileSync(join(dir, 'real-metrics.json'), 'old');
    symlinkSync('real-metrics.json', join(dir, 'link.json'));
    const r = await run('model.json imgs --metrics link.json');
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'real-metrics.json'), 'utf8'))).toMatchObject({ images: 2, accuracy: 1 });
  });

  it.runIf(existsSync('/dev/null'))('a symbolic link to a device is written through, never renamed over (needs /dev/null)', async () => {
    symlinkSync('/dev/null', join(dir, 'null.json'));
    const n = await run('model.json imgs --metrics null.json');
    expect(n.code).toBe(0);
    expect(readlinkSync(join(dir, 'null.json'))).toBe('/dev/null');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it.runIf(linux)('/dev/stdout (here a link to it): the metrics come out on stdout after the predictions', async () => {
    symlinkSync('/proc/self/fd/1', join(dir, 'stdout.json'));
    const r = await run('model.json imgs --metrics stdout.json -q');
    expect(r.code).toBe(0);
    const [predictions, metrics] = [r.stdout.slice(0, r.stdout.indexOf('{')), r.stdout.slice(r.stdout.indexOf('{'))];
    expect(predictions.trimEnd().split('\n')).toHaveLength(2);
    expect(JSON.parse(metrics)).toMatchObject({ images: 2, labeled: 2 });
    expect(lstatSync(join(dir, 'stdout.json')).isSymbolicLink()).toBe(true);
  });
});

describe('stdout and stderr that cannot be written', () => {
  it.runIf(existsSync('/dev/full'))('a full stdout: one line and exit 1, no stack trace', async () => {
    const r = await run('model.json imgs > /dev/full');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nn-eval: cannot write the predictions to stdout: no space left on the device\n$/m);
    expectCleanStderr(r.stderr);
  });

  it.runIf(existsSync('/dev/full'))('a full stderr: the messages are lost, the data and the exit code are not', async () => {
    const r = await run('model.json imgs 2>/dev/full; echo "status=$?"');
    expect(r.stdout).toMatch(/^imgs\/cat\.1\.png\t.*\nimgs\/dog\.2\.png\t.*\nstatus=0\n$/);
  });
});
