// nn-eval's pieces that need neither images nor the core: the command line, the output formats
// (each parsed back), Kaggle ids, clipping and order, the metrics on hand-computed cases, and
// input resolution (folders, files, stdin).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvalCli, type EvalArgs } from '../src/cli/eval-options.ts';
import { UserError } from '../src/errors.ts';
import { maxTtaViews } from '../src/data/tta.ts';
import { evalCoreSplit } from '../src/eval/decode-inputs.ts';
import {
  clipProbability,
  createFormatter,
  escapeCsv,
  escapeTsv,
  formatProbability,
  kaggleId,
  unescapeTsv,
  type Prediction,
} from '../src/eval/formats.ts';
import { inputItems, planInputs, plannedCount, readLines, type InputItem, type InputSources } from '../src/eval/inputs.ts';
import { MetricsAccumulator } from '../src/eval/metrics.ts';
import { formatSummary } from '../src/eval/summary.ts';
import { makeChalk } from '../src/report/color.ts';

function run(argv: string[]): EvalArgs {
  const parsed = parseEvalCli(argv);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.args;
}

function usageError(argv: string[]): string {
  try {
    parseEvalCli(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('nn-eval command line', () => {
  it('takes a model and inputs, with documented defaults', () => {
    const a = run(['m.json', 'a.jpg', 'dir']);
    expect(a).toEqual({
      model: 'm.json',
      inputs: ['a.jpg', 'dir'],
      format: 'tsv',
      threshold: 0.5,
      clip: 0.005,
      metrics: null,
      batchSize: 16,
      workers: null,
      kernel: 'auto',
      device: 'cpu',
      tta: null,
      quiet: false,
      progress: true,
      color: undefined,
    });
  });

  it('reads every option', () => {
    const a = run(['m.json', '-', '--format', 'kaggle', '--threshold', '0.3', '--clip', '0.01', '--metrics', 'out.json', '--batch-size', '8', '--workers', '1', '--kernel', 'js', '-q', '--no-color', '--tta', '--no-progress']);
    expect(a).toMatchObject({ inputs: ['-'], format: 'kaggle', threshold: 0.3, clip: 0.01, metrics: 'out.json', batchSize: 8, workers: 1, kernel: 'js', quiet: true, color: false, tta: 'flip', progress: false });
    expect(run(['m.json', 'x', '-f', 'jsonl', '-t', '1']).format).toBe('jsonl');
    expect(run(['m.json', 'x', '--tta-shifts']).tta).toBe('shifts');
    expect(run(['m.json', '--tta-shifts', '--tta', 'x']).tta).toBe('shifts'); // the larger set of views wins
  });

  it('test-time augmentation brings its own defaults: batch 64, the cores shared by the work', () => {
    expect(run(['m.json', 'x', '--tta']).batchSize).toBe(64);
    expect(run(['m.json', 'x', '--tta-shifts']).batchSize).toBe(64);
    expect(run(['m.json', 'x', '--tta-shifts', '--batch-size', '8']).batchSize).toBe(8);
    expect(run(['m.json', 'x', '--batch-size', '16', '--tta']).batchSize).toBe(16); // given, even the plain default
    // One forward pass an image: half the cores compute, the others decode.
    expect(evalCoreSplit(null, 1, 2)).toEqual({ coreThreads: 1, decoderProcesses: 1 });
    expect(evalCoreSplit(null, 1, 5)).toEqual({ coreThreads: 3, decoderProcesses: 2 });
    // Views: the decoders get their share of the work (1.45 ms an image against 1.25 a pass), the core the rest and one more.
    expect(evalCoreSplit(null, maxTtaViews('shifts'), 2)).toEqual({ coreThreads: 2, decoderProcesses: 1 });
    expect(evalCoreSplit(null, maxTtaViews('flip'), 2)).toEqual({ coreThreads: 2, decoderProcesses: 1 });
    expect(evalCoreSplit(null, maxTtaViews('flip'), 16)).toEqual({ coreThreads: 11, decoderProcesses: 6 });
    expect(evalCoreSplit(null, maxTtaViews('shifts'), 16)).toEqual({ coreThreads: 16, decoderProcesses: 1 });
    expect(evalCoreSplit(null, 2, 1)).toEqual({ coreThreads: 1, decoderProcesses: 1 });
    expect(evalCoreSplit(1, 18, 4)).toEqual({ coreThreads: 1, decoderProcesses: 3 }); // --workers wins
  });

  it('rejects bad values with one line naming the option', () => {
    expect(usageError(['m.json'])).toBe('give the images or folders to predict after the model: nn-eval m.json <images, folders or ->');
    // The model forgotten: the first argument is taken for it, and the message says so.
    expect(usageError(['test1/'])).toBe('test1/: the first argument is the model file (model.json of an nn-train run), then the images: nn-eval runs/NAME/model.json test1/');
    expect(usageError([])).toMatch(/missing required argument 'model'/);
    expect(usageError(['m.json', 'x', '--format', 'xml'])).toMatch(/--format.*xml/);
    expect(usageError(['m.json', 'x', '--threshold', '1.5'])).toMatch(/--threshold.*\[0, 1\]/);
    expect(usageError(['m.json', 'x', '--clip', '0.5'])).toMatch(/--clip/);
    expect(usageError(['m.json', 'x', '--clip', 'abc'])).toMatch(/--clip/);
    expect(usageError(['m.json', 'x', '--batch-size', '0'])).toMatch(/--batch-size/);
    expect(usageError(['m.json', 'x', '--batch-size', '2.5'])).toMatch(/--batch-size/);
    expect(usageError(['m.json', 'x', '--bogus'])).toMatch(/unknown option '--bogus'/);
    expect(usageError(['m.json', '-', '-'])).toMatch(/only once/);
    for (const argv of [['m.json'], ['m.json', 'x', '--bogus']]) expect(usageError(argv).split('\n')).toHaveLength(1);
  });

  it('prints help in groups, with examples and the exit codes, and no "(default: false)"', () => {
    const parsed = parseEvalCli(['--help']);
    expect(parsed.kind).toBe('help');
    const text = parsed.kind === 'help' ? parsed.text : '';
    expect(text).toMatch(/^Usage: nn-eval \[options\] <model\.json> <images, folders or - \.\.\.>$/m);
    expect(text.match(/^[A-Z][a-z ]+:$/gm)).toEqual(['Arguments:', 'Output:', 'Prediction:', 'Display:', 'Other:', 'Examples:']);
    expect(text).toMatch(/^ {2}nn-eval model\.json photo\.jpg --tta$/m);
    expect(text).toMatch(/Exit codes: 0/);
    expect(text).not.toContain('(default: false)');
  });
});

const preds: Prediction[] = [
  { path: 'data/dog.1.jpg', pDog: 0.9, actual: 1 },
  { path: 'data/x,y "quoted".jpg', pDog: 0.2, actual: null },
  { path: 'data/tab\there\\back\nline.jpg', pDog: 1.5e-7, actual: 0 },
];

/** A small RFC 4180 reader, to parse the CSV back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (ch === '"') (quoted = false), i++;
      else (field += ch), i++;
    } else if (ch === '"') (quoted = true), i++;
    else if (ch === ',') row.push(field), (field = ''), i++;
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else (field += ch), i++;
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

describe('output formats', () => {
  const options = { threshold: 0.5, clip: 0.005 };

  it('writes probabilities with 6 decimals, always', () => {
    expect(formatProbability(0.9734119772911072)).toBe('0.973412');
    expect(formatProbability(1)).toBe('1.000000');
    expect(formatProbability(0)).toBe('0.000000');
    expect(formatProbability(1.5e-7)).toBe('0.000000');
    expect(formatProbability(0.5)).toBe('0.500000');
    expect(formatProbability(0.12345678)).toBe('0.123457');
  });

  it('tsv: path, p_dog, label; no header; special characters escaped and read back', () => {
    const f = createFormatter('tsv', options);
    expect(f.header()).toBe('');
    const text = f.batch(preds) + f.end();
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    const rows = lines.map((l) => l.split('\t'));
    for (const r of rows) expect(r).toHaveLength(3);
    expect(rows.map((r) => unescapeTsv(r[0]!))).toEqual(preds.map((p) => p.path));
    expect(rows.map((r) => r[1])).toEqual(['0.900000', '0.200000', '0.000000']);
    expect(rows.map((r) => r[2])).toEqual(['dog', 'cat', 'cat']);
    expect(escapeTsv('a\tb')).toBe('a\\tb');
  });

  it('threshold: p_dog at the threshold is a dog', () => {
    const f = createFormatter('tsv', { threshold: 0.2, clip: 0 });
    expect(f.batch(preds).split('\n').map((l) => l.split('\t')[2])).toEqual(['dog', 'dog', 'cat', undefined]);
  });

  it('csv: header, RFC 4180 quoting, read back', () => {
    const f = createFormatter('csv', options);
    const rows = parseCsv(f.header() + f.batch(preds) + f.batch([]) + f.end());
    expect(rows[0]).toEqual(['path', 'p_dog', 'label']);
    expect(rows.slice(1)).toEqual([
      [preds[0]!.path, '0.900000', 'dog'],
      [preds[1]!.path, '0.200000', 'cat'],
      [preds[2]!.path, '0.000000', 'cat'],
    ]);
    expect(escapeCsv('plain.jpg')).toBe('plain.jpg');
    expect(escapeCsv('a"b')).toBe('"a""b"');
  });

  it('jsonl: one object per line with the known label, p_dog with 6 decimals', () => {
    const f = createFormatter('jsonl', options);
    const text = f.header() + f.batch(preds) + f.end();
    const objects = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(objects).toEqual([
      { path: preds[0]!.path, p_dog: 0.9, label: 'dog', actual: 'dog' },
      { path: preds[1]!.path, p_dog: 0.2, label: 'cat', actual: null },
      { path: preds[2]!.path, p_dog: 0, label: 'cat', actual: 'cat' },
    ]);
    expect(text.match(/"p_dog":[^,]*/g)).toEqual(['"p_dog":0.900000', '"p_dog":0.200000', '"p_dog":0.000000']);
  });

  it('kaggle ids come from N.ext names only', () => {
    expect(kaggleId('test1/1.jpg')).toBe(1);
    expect(kaggleId('/a/b/12500.JPG')).toBe(12500);
    expect(kaggleId('007.png')).toBe(7);
    expect(kaggleId('cat.1.jpg')).toBeNull();
    expect(kaggleId('1.2.jpg')).toBeNull();
    expect(kaggleId('12')).toBeNull();
    expect(kaggleId('-3.jpg')).toBeNull();
    expect(kaggleId('99999999999999999999.jpg')).toBeNull();
  });

  it('clips to [c, 1-c]', () => {
    expect(clipProbability(0, 0.005)).toBe(0.005);
    expect(clipProbability(1, 0.005)).toBe(1 - 0.005);
    expect(clipProbability(0.3, 0.005)).toBe(0.3);
    expect(clipProbability(1, 0)).toBe(1);
  });

  it('kaggle: header id,label, rows sorted by numeric id, probabilities clipped, all at the end', () => {
    const f = createFormatter('kaggle', { threshold: 0.5, clip: 0.01 });
    const paths = ['t/10.jpg', 't/9.jpg', 't/100.jpg', 't/2.jpg'];
    for (const p of paths) f.accept!(p);
    expect(f.header()).toBe('');
    // Two batches, out of id order; nothing is written until the end (the rows must be sorted).
    expect(f.batch([{ path: 't/10.jpg', pDog: 1, actual: null }, { path: 't/9.jpg', pDog: 0.25, actual: null }])).toBe('');
    expect(f.batch([{ path: 't/100.jpg', pDog: 0, actual: null }, { path: 't/2.jpg', pDog: 0.995, actual: null }])).toBe('');
    const rows = parseCsv(f.end());
    expect(rows).toEqual([
      ['id', 'label'],
      ['2', '0.990000'],
      ['9', '0.250000'],
      ['10', '0.990000'],
      ['100', '0.010000'],
    ]);
  });

  it('kaggle: a name without an id or a repeated id is a usage error naming the file', () => {
    const f = createFormatter('kaggle', options);
    expect(() => f.accept!('data/cat.1.jpg')).toThrow(/data\/cat\.1\.jpg: --format kaggle needs images named N\.jpg/);
    f.accept!('a/5.jpg');
    expect(() => f.accept!('b/5.png')).toThrow(/b\/5\.png: id 5 is given twice \(also a\/5\.jpg\)/);
  });
});

describe('metrics', () => {
  it('accuracy, log loss and the confusion matrix on a hand-computed case', () => {
    const m = new MetricsAccumulator(0.5, 0.05);
    // p_dog and the actual label:
    //   0.9 dog -> dog (right)   -ln 0.9 = 0.1053605
    //   0.2 cat -> cat (right)   -ln 0.8 = 0.2231436
    //   0.6 cat -> dog (wrong)   -ln 0.4 = 0.9162907
    //   0.4 dog -> cat (wrong)   -ln 0.4 = 0.9162907
    //   0.7 unlabeled: predicted, not scored
    // log loss = (0.1053605 + 0.2231436 + 2 * 0.9162907) / 4 = 0.5402714
    m.add(0.9, 1);
    m.add(0.2, 0);
    m.add(0.6, 0);
    m.add(0.4, 1);
    m.add(0.7, null);
    m.skip('bad.jpg', 'not an image');
    const r = m.result();
    expect(r).toMatchObject({ images: 5, labeled: 4, unlabeled: 1, skipped: 1, threshold: 0.5, accuracy: 0.5, clip: 0.05 });
    expect(r.logLoss).toBeCloseTo(0.5402714, 6);
    expect(r.clippedLogLoss).toBeCloseTo(0.5402714, 6); // nothing beyond [0.05, 0.95]
    expect(r.confusion).toEqual({ cat: { cat: 1, dog: 1 }, dog: { cat: 1, dog: 1 } });
    expect(r.classAccuracy).toEqual({ cat: 0.5, dog: 0.5 });
    expect(r.unlabeledPredicted).toEqual({ cat: 0, dog: 1 }); // 0.7 is called a dog
    expect(r.skippedFiles).toEqual([{ path: 'bad.jpg', reason: 'not an image' }]);
  });

  it('a confident mistake costs -ln(1e-15) unclipped and -ln(c) clipped, never Infinity', () => {
    const m = new MetricsAccumulator(0.5, 0.005);
    m.add(1, 0); // certain dog, actually a cat
    m.add(0, 0); // certain cat, right: costs -ln(1 - 1e-15) ~ 1e-15 and -ln(0.995) clipped
    const r = m.result();
    expect(r.logLoss).toBeCloseTo((-Math.log(1e-15) + 1e-15) / 2, 10);
    expect(r.clippedLogLoss).toBeCloseTo((-Math.log(0.005) - Math.log(0.995)) / 2, 12);
    expect(r.accuracy).toBe(0.5);
    expect(r.confusion).toEqual({ cat: { cat: 1, dog: 1 }, dog: { cat: 0, dog: 0 } });
  });

  it('with no labels: counts of predicted cats and dogs, null scores', () => {
    const m = new MetricsAccumulator(0.5, 0.005);
    m.add(0.3, null);
    m.add(0.2, null);
    m.add(0.8, null);
    expect(m.result()).toMatchObject({ images: 3, labeled: 0, unlabeled: 3, accuracy: null, logLoss: null, clippedLogLoss: null });
    expect(m.result().classAccuracy).toEqual({ cat: null, dog: null });
    expect(m.result().unlabeledPredicted).toEqual({ cat: 2, dog: 1 });
    expect(formatSummary(m.result(), 1, makeChalk(0))).toMatch(/^  predicted  2 cats, 1 dog \(at threshold 0\.5\)$/m);
  });

  it('shows the accuracy of each class, so a model that calls most cats dogs shows at once', () => {
    const m = new MetricsAccumulator(0.5, 0.005);
    for (let i = 0; i < 8; i++) m.add(0.9, 0); // 8 cats called dogs
    for (let i = 0; i < 2; i++) m.add(0.1, 0); // 2 cats right
    for (let i = 0; i < 30; i++) m.add(0.9, 1); // 30 dogs right
    const r = m.result();
    expect(r.accuracy).toBe(0.8); // looks fair...
    expect(r.classAccuracy).toEqual({ cat: 0.2, dog: 1 }); // ...but the cats are mostly wrong
    expect(formatSummary(r, 1, makeChalk(0))).toMatch(/^  per class  cats 20\.00% \(2 of 10\)   dogs 100\.00% \(30 of 30\)$/m);
  });

  it('the summary for people shows the figures without colour codes', () => {
    const m = new MetricsAccumulator(0.5, 0.005);
    m.add(0.9, 1);
    m.add(0.6, 0);
    m.skip('x.jpg', 'broken');
    const text = formatSummary(m.result(), 2, makeChalk(0));
    expect(text).toMatch(/^nn-eval: 2 images, 1 skipped, 2\.0 s, 1 images\/s\n/);
    expect(text).toMatch(/accuracy   50\.00%  \(1 of 2 at threshold 0\.5\)/);
    expect(text).toMatch(/confusion  actual \\ predicted/);
    expect(text).not.toMatch(/\x1b\[/);
    expect(formatSummary(new MetricsAccumulator(0.5, 0.005).result(), 0, makeChalk(0))).toBe('nn-eval: 0 images, 0.0 s\n');
  });
});

describe('inputs', () => {
  let dir: string;
  // A simple lister for these tests: the folder's files, sorted; the label from the name.
  const labelFile = (p: string) => (/(^|\/)dog\./i.test(p) ? 1 : /(^|\/)cat\./i.test(p) ? 0 : null);
  const sources = (stdin: string): InputSources => ({
    listFolder: async (d: string): Promise<InputItem[]> => {
      const { readdirSync } = await import('node:fs');
      return readdirSync(d)
        .sort()
        .map((n) => ({ kind: 'image', image: { path: join(d, n), actual: labelFile(n) } }));
    },
    labelFile,
    stdin: () => Readable.from([stdin]),
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nn-eval-inputs-'));
    mkdirSync(join(dir, 'f'));
    mkdirSync(join(dir, 'empty'));
    for (const n of ['b.jpg', 'a.jpg']) writeFileSync(join(dir, 'f', n), 'x');
    writeFileSync(join(dir, 'dog.3.jpg'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function collect(items: AsyncIterable<InputItem>): Promise<string[]> {
    const out: string[] = [];
    for await (const item of items) out.push(item.kind === 'image' ? `${item.image.path}:${item.image.actual}` : `!${item.path}:${item.reason}`);
    return out;
  }

  it('keeps the order given, expands folders, labels files', async () => {
    const s = sources('');
    const plan = await planInputs([join(dir, 'dog.3.jpg'), join(dir, 'f')], s);
    expect(plannedCount(plan)).toBe(3);
    expect(await collect(inputItems(plan, s))).toEqual([`${dir}/dog.3.jpg:1`, `${dir}/f/a.jpg:null`, `${dir}/f/b.jpg:null`]);
  });

  it('a missing path or an empty folder on the command line is a usage error naming it', async () => {
    await expect(planInputs([join(dir, 'f'), join(dir, 'nope.jpg')], sources(''))).rejects.toThrow(new UserError(`${dir}/nope.jpg: no such file or folder`));
    await expect(planInputs([join(dir, 'empty')], sources(''))).rejects.toThrow(/empty: no images in this folder/);
  });

  it('reads paths from stdin line by line (CRLF too), expands folders there, reports missing ones', async () => {
    const s = sources(`${dir}/dog.3.jpg\r\n\n${dir}/f\n${dir}/gone.jpg\n`);
    const plan = await planInputs(['-', join(dir, 'dog.3.jpg')], s);
    expect(plannedCount(plan)).toBeNull();
    expect(await collect(inputItems(plan, s))).toEqual([
      `${dir}/dog.3.jpg:1`,
      `${dir}/f/a.jpg:null`,
      `${dir}/f/b.jpg:null`,
      `!${dir}/gone.jpg:no such file or folder`,
      `${dir}/dog.3.jpg:1`,
    ]);
  });

  it('readLines yields lines as they arrive', async () => {
    const lines: string[] = [];
    for await (const l of readLines(Readable.from(['a\nb', 'c\n', '\n', 'd']))) lines.push(l);
    expect(lines).toEqual(['a', 'bc', 'd']);
  });
});
