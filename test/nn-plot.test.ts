import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/nn-plot.ts';
import { ravinePathLabel } from '../src/report/figure-charts.ts';
import { ewaFigure, ravineFigure } from '../src/report/figures.ts';
import { inkFraction, rasterise, seriesValues } from './report-helpers.ts';
import { runInProcess } from './helpers/in-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'nn-plot-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs the command in-process and captures what it writes. */
const run = (argv: string[]) => runInProcess(main, argv);

describe('nn-plot', () => {
  it('ewa without --out writes the SVG to stdout, and it rasterises at its size', async () => {
    const { code, stdout, stderr } = await run(['ewa']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.startsWith('<?xml')).toBe(true);
    const r = await rasterise(stdout);
    expect([r.width, r.height]).toEqual([1000, 440]);
    expect(inkFraction(r)).toBeGreaterThan(0.02);
  });

  it('ewa --out writes the same figure to the file; --seed changes the noise', async () => {
    const file = join(dir, 'ewa.svg');
    const written = await run(['ewa', '--out', file]);
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('');
    expect(written.stderr).toBe(`nn-plot: wrote ${file}\n`);
    expect(readFileSync(file, 'utf8')).toBe((await run(['ewa'])).stdout);
    const seeded = (await run(['ewa', '--seed', '7'])).stdout;
    expect(seeded).not.toBe(readFileSync(file, 'utf8'));
    // The drawn samples are the seeded ones.
    expect(seeded).toContain('(seed 7)');
    expect(ewaFigure(7).samples).not.toEqual(ewaFigure(1).samples);
  });

  it('ravine draws the optimizer paths, with the given settings', async () => {
    const file = join(dir, 'ravine.svg');
    const { code } = await run(['ravine', '--out', file, '--steps', '12', '--lr', '0.02', '--beta', '0.7']);
    expect(code).toBe(0);
    const svg = readFileSync(file, 'utf8');
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([900, 460]);
    const fig = ravineFigure({ steps: 12, lr: 0.02, beta: 0.7 });
    for (const p of fig.paths) {
      const [line] = seriesValues(svg, ravinePathLabel(p));
      expect(line!.map((q) => q.x)).toEqual(p.x.map((x) => expect.closeTo(x, 1)));
    }
  });

  it('--help says what each figure shows, with examples; --version prints the version', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}ewa \[options\] +A noisy cosine and its exponentially weighted averages/m);
    expect(stdout).toMatch(/^ {2}ravine \[options\] +The paths of gradient descent, momentum and Nesterov/m);
    expect(stdout).toMatch(/^Examples:\n {2}nn-plot ewa --out ewa\.svg/m);
    expect(stdout).not.toMatch(/seed's figures|computed by/); // what they show, not where they came from
    expect((await run(['ravine', '--help'])).stdout).toMatch(/--out <file>/);
    const version = await run(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('does not dump SVG onto a terminal: a hint instead, exit 2', async () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      const r = await run(['ewa']);
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: 'nn-plot: not writing SVG onto the terminal: give a file with --out (nn-plot ewa --out ewa.svg), or redirect stdout (nn-plot ewa > ewa.svg)\n',
      });
      const file = join(dir, 'tty.svg');
      expect((await run(['ewa', '--out', file])).code).toBe(0); // a file is fine
      expect(existsSync(file)).toBe(true);
    } finally {
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });

  it('an unwritable --out is one line naming the path, exit 2, and nothing left behind', async () => {
    const notAFolder = join(dir, 'a-file');
    writeFileSync(notAFolder, 'x');
    for (const out of [join(dir, 'missing', 'x.svg'), join(notAFolder, 'x.svg'), dir]) {
      const before = readdirSync(dir).sort();
      const { code, stdout, stderr } = await run(['ravine', '--out', out]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toContain(out);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(dir).sort()).toEqual(before);
    }
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('usage errors exit 2 with a one-line message', async () => {
    for (const argv of [[], ['bogus'], ['ewa', '--seed', 'x'], ['ravine', '--beta', '1'], ['ravine', '--steps', '0'], ['ewa', '--nope']]) {
      const { code, stdout, stderr } = await run(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stdout).toBe('');
      if (argv.length > 0) expect(stderr.trimEnd().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(/^(nn-plot: |Usage: nn-plot)/);
    }
  });
});
