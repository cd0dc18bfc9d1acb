// What a person sees: nn-train and nn-eval on a real pseudo-terminal (util-linux `script`), keys
// typed as a person types them, and the screen they leave, read back through the emulator of
// test/helpers/terminal.ts. Every exit path (the end, Ctrl-C once and twice, SIGTERM, a crash, a
// closed pipe) must leave the cursor visible and no progress bar on the screen; a shell loop must
// stop on Ctrl-C; bars fit the window, also after a resize.
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelFile } from '../src/io/model-file.ts';
import { decodeCheckpoint } from '../src/io/checkpoint.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';
import { resizeWhen, runInTerminal, Screen, visible } from './helpers/terminal.ts';
import { handSetModel, sh } from './nn-eval-helpers.ts';

const root = join(__dirname, '..');
const TRAIN = `node ${sh(join(root, 'bin', 'nn-train.js'))}`;
const EVAL = `node ${sh(join(root, 'bin', 'nn-eval.js'))}`;
const HOW_IT_ENDED = `node ${sh(join(root, 'test', 'helpers', 'how-it-ended.mjs'))}`;
const SIZE = { cols: 100, rows: 30 };
let dir: string;

/**
 * A config on the test pictures. The js kernel on one thread makes the speed of a batch steady
 * enough to see the bar and to interrupt it: about 5 ms per batch of 2, 75 batches per epoch.
 */
function config(name: string, overrides: { training?: Record<string, unknown>; model?: Record<string, unknown>; data?: Record<string, unknown> } = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      data: { train: join(dir, 'images'), width: 24, height: 24, validation: 0.25, cache: join(dir, 'cache'), ...overrides.data },
      model: { hidden: [256], ...overrides.model },
      optimizer: { type: 'momentum', lr: 0.05 },
      training: { batchSize: 2, epochs: 200, seed: 1, workers: 1, ...overrides.training },
    }),
  );
  return sh(path);
}

/** The epoch bar, drawn: "epoch 1/200 ███░░ 3/75 | loss ...". */
const EPOCH_BAR = /epoch \d+\/\d+ [█░]+ \d+\/\d+ \| loss/;
const BAR_CHARS = /[█░]/;

/** The screen after `output`, on a reflowing terminal and on one that cuts (xterm): both must be clean. */
function screens(output: string, size = SIZE): Screen[] {
  return [Screen.of(output, size, 'reflow'), Screen.of(output, size, 'cut')];
}

function expectCleanEnd(output: string, size = SIZE): string[] {
  for (const screen of screens(output, size)) {
    expect(screen.cursorVisible, visible(output)).toBe(true);
    for (const line of screen.text()) expect(line, 'a progress bar left on the screen').not.toMatch(BAR_CHARS);
  }
  return Screen.of(output, size).text();
}

beforeAll(async () => {
  dir = makeTempDir('nn-terminal-');
  await makeLabeledFolder(join(dir, 'images'), { cats: 100, dogs: 100, size: 24 });
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('nn-train on a terminal', () => {
  it('Ctrl-C in a shell loop: the checkpoint is written, the message says where, and the loop stops', async () => {
    const out = join(dir, 'loop-run');
    const t = runInTerminal(`for i in 1 2; do echo "run $i"; ${TRAIN} --config ${config('loop')} --out ${sh(out)}-$i; done; echo "loop ended"`, SIZE);
    await t.waitFor(EPOCH_BAR);
    t.type('\x03');
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text).toContain('run 1');
    expect(text).not.toContain('run 2');
    expect(text).not.toContain('loop ended');
    const stopped = text.find((l) => l.startsWith('interrupted at epoch'));
    expect(stopped, text.join('\n')).toMatch(new RegExp(`^interrupted at epoch (\\d+), batch (\\d+)/75 after [\\d.]+ s; the checkpoint is ${out}-1/last\\.json$`));
    expect(text).toContain(`continue with: nn-train --resume ${out}-1`);
    // The message says where the checkpoint stands.
    const [, epoch, batch] = /epoch (\d+), batch (\d+)/.exec(stopped!)!;
    const checkpoint = decodeCheckpoint(readFileSync(join(`${out}-1`, 'last.json'), 'utf8'));
    expect([checkpoint.epoch + 1, checkpoint.batch]).toEqual([Number(epoch), Number(batch)]);
  }, 60_000);

  it('(the loop test can fail: a program that exits with 130 on Ctrl-C lets the loop go on)', async () => {
    const exit130 = `node -e "process.on('SIGINT', () => process.exit(130)); console.log('waiting'); setTimeout(() => {}, 20000)"`;
    const t = runInTerminal(`for i in 1 2; do echo "run $i"; ${exit130}; done; echo "loop ended"`, SIZE);
    await t.waitFor(/waiting/);
    t.type('\x03');
    await t.waitFor(/run 2[\s\S]*waiting/);
    t.type('\x03');
    const text = Screen.of((await t.done).output, SIZE).text();
    expect(text.some((l) => l.endsWith('run 2'))).toBe(true); // after the terminal's own "^C"
    expect(text.some((l) => l.endsWith('loop ended'))).toBe(true);
  }, 60_000);

  it('Ctrl-C while the images decode stops at once, keeps nothing, and stops the loop', async () => {
    // 600 links to one 4000x3000 PNG: about ten seconds of decoding in two processes.
    const big = join(dir, 'big');
    mkdirSync(big);
    const w = 4000;
    const h = 3000;
    const pixels = Buffer.alloc(w * h * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + (i >> 10)) & 255;
    await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 1 }).toFile(join(dir, 'big.png'));
    for (let i = 0; i < 300; i++) for (const c of ['cat', 'dog']) linkSync(join(dir, 'big.png'), join(big, `${c}.${i}.png`));
    const out = join(dir, 'decode-run');
    const cache = join(dir, 'decode-cache');
    const t = runInTerminal(`for i in 1 2; do echo "run $i"; ${TRAIN} --config ${config('decode', { data: { train: big, cache } })} --out ${sh(out)}; done`, SIZE);
    await t.waitFor(/decoding [█░]+ \d+\/600 images/);
    t.type('\x03');
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text).not.toContain('run 2');
    expect(text).toContain('interrupted before training started: nothing was trained, and no run folder is left');
    // Decoding stopped part way: its last count is short of 600, and the data line never came.
    const counts = [...output.matchAll(/decoding [█░]+ (\d+)\/600 images/g)].map((m) => Number(m[1]));
    expect(Math.max(...counts)).toBeLessThan(600);
    expect(text.join('\n')).not.toMatch(/^data: /m);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]); // no half cache either
  }, 90_000);

  it('a second Ctrl-C ends it at once, by SIGINT, with the cursor back', async () => {
    // Batches of 50 on 1,024 hidden units in plain JavaScript: about a third of a second each.
    const slow = config('twice', { model: { hidden: [1024] }, training: { batchSize: 50 } });
    const t = runInTerminal(`${HOW_IT_ENDED} ${TRAIN} --config ${slow} --kernel js --out ${sh(join(dir, 'twice-run'))}`, SIZE);
    await t.waitFor(EPOCH_BAR);
    t.type('\x03');
    await new Promise((r) => setTimeout(r, 100));
    t.type('\x03');
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text).toContain('[ended: signal SIGINT]');
    expect(text.join('\n')).toMatch(/stopped at once|interrupted at epoch/); // the second Ctrl-C may land after the checkpoint
  }, 60_000);

  it('SIGTERM: the checkpoint is written, the cursor is back, and the process ends by SIGTERM', async () => {
    const pidFile = join(dir, 'term.pid');
    const t = runInTerminal(
      `${HOW_IT_ENDED} bash -c ${sh(`echo $$ > ${sh(pidFile)}; exec ${TRAIN} --config ${config('term')} --out ${sh(join(dir, 'term-run'))}`)}`,
      SIZE,
    );
    await t.waitFor(EPOCH_BAR);
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text.join('\n')).toMatch(/^interrupted at epoch \d+, batch \d+\/75 /m);
    expect(text).toContain('[ended: signal SIGTERM]');
    expect(existsSync(join(dir, 'term-run', 'last.json'))).toBe(true);
  }, 60_000);

  it('a crash: the bar is erased before the error, which starts on a line of its own, and the cursor is back', async () => {
    const preload = sh(`file://${join(root, 'test', 'helpers', 'crash-on-epoch-bar.mjs')}`);
    const t = runInTerminal(`NODE_OPTIONS=--import=${preload} ${TRAIN} --config ${config('crash')} --out ${sh(join(dir, 'crash-run'))}; echo "status $?"`, SIZE);
    const { output } = await t.done;
    expect(output).toMatch(EPOCH_BAR); // the bar was on the screen when it crashed
    const text = expectCleanEnd(output);
    expect(text).toContain('Error: a crash for the test');
    expect(text).toContain('status 1');
  }, 60_000);

  it('a closed pipe (--json | head -1): stops after the batch with a checkpoint, cursor back, exit 130', async () => {
    const out = join(dir, 'pipe-run');
    const t = runInTerminal(`${TRAIN} --config ${config('pipe')} --out ${sh(out)} --json | head -1; echo "status \${PIPESTATUS[0]}"`, SIZE);
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    // head's line and nn-train's lines reach the terminal in either order.
    expect(text.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as unknown)).toEqual([expect.objectContaining({ event: 'dataset' })]);
    expect(text).toContain('warning: stdout was closed: stopping after this batch');
    expect(text.join('\n')).toMatch(/^interrupted at epoch 1, batch \d+\/75 /m);
    expect(text).toContain('status 130');
    expect(existsSync(join(out, 'last.json'))).toBe(true);
  }, 60_000);

  it('bars fit the window, and a resize leaves no stale line; the epoch bar shows epoch N/M, the loss, images/s and the ETAs', async () => {
    const flag = join(dir, 'resize-now');
    const t = runInTerminal(`${resizeWhen(flag, 60, 30)}${TRAIN} --config ${config('resize', { training: { epochs: 6 } })} --kernel js --out ${sh(join(dir, 'resize-run'))}`, SIZE);
    await t.waitFor(/epoch 2\/6 [█░]+/);
    writeFileSync(flag, '');
    const { output } = await t.done;
    const mark = output.indexOf('\x1b]777;resize;60;30\x07');
    expect(mark).toBeGreaterThan(0);
    // Frames are "CR ESC[?7l text ESC[J": their text before the resize fits 100 columns (99 and
    // the cursor's), and once nn-train has heard of the resize, 60.
    const frames = (part: string) => [...part.matchAll(/\r\x1b\[\?7l([^\x1b]*)\x1b\[J/g)].map((m) => [...m[1]!]);
    const before = frames(output.slice(0, mark));
    const after = frames(output.slice(mark));
    expect(before.length).toBeGreaterThan(0);
    for (const f of before) expect(f.length).toBeLessThanOrEqual(99);
    const adapted = after.findIndex((f) => f.length <= 59);
    expect(adapted).toBeGreaterThanOrEqual(0);
    for (const f of after.slice(adapted)) expect(f.length, f.join('')).toBeLessThanOrEqual(59);
    // What the bars said: all the fields at 100 columns, the loss and the ETA at 60.
    expect(before.map((f) => f.join('')).find((f) => f.startsWith('epoch 2/6'))).toMatch(/^epoch 2\/6 [█░]+ \d+\/75 \| loss \d\.\d{4} \| [\d,]+ img\/s \| ETA \d+:\d\d \| run ETA \d+:\d\d$/);
    expect(after.slice(adapted).map((f) => f.join('')).find((f) => f.startsWith('epoch'))).toMatch(/^epoch \d\/6 [█░]+ \d+\/75 \| loss \d\.\d{4} \| ETA \d+:\d\d$/);
    // And the screen, whether the terminal reflows or cuts its lines: the log, no bar left.
    const text = expectCleanEnd(output);
    expect(text.filter((l) => /^epoch \d\/6 {2}train loss/.test(l))).toHaveLength(6);
  }, 90_000);

  it('the end of a run: what was written, what * means, and a chart with an epoch axis and no trailing spaces', async () => {
    const out = join(dir, 'end-run');
    const t = runInTerminal(`${TRAIN} --config ${config('end', { model: { hidden: [16] }, training: { epochs: 3, batchSize: 16 } })} --out ${sh(out)}`, SIZE);
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text.join('\n')).toMatch(/^done: 3 epochs in [\d.]+ s$/m);
    expect(text.join('\n')).toMatch(/^best epoch \d: validation loss \d\.\d{4}, accuracy [\d.]+% \(\* in the epoch lines: a new best, saved as model\.json\)$/m);
    const files = text.slice(text.indexOf(`files in ${out}:`) + 1, text.indexOf(`files in ${out}:`) + 6).map((l) => l.trim().split(/\s+/)[0]);
    expect(files).toEqual(['model.json', 'last.json', 'metrics.jsonl', 'loss.svg', 'config.json']);
    const chart = text.slice(text.indexOf('validation loss per epoch:') + 1);
    expect(chart).toHaveLength(8); // 6 rows, the axis, its labels
    expect(chart[0]).toMatch(/^ {2}\d\.\d{4} ┤/); // rounded like the epoch lines
    expect(chart[6]).toMatch(/^ +└─+$/);
    expect(chart[7]).toMatch(/^ +1 +epoch +3$/);
    for (const line of output.split('\n')) expect(line.replace(/\r$/, '')).not.toMatch(/ $/);
  }, 60_000);

  it('NO_COLOR: no colour, but still the progress bar', async () => {
    const t = runInTerminal(`${TRAIN} --config ${config('nocolor', { training: { epochs: 2 } })} --kernel js --out ${sh(join(dir, 'nocolor-run'))}`, { ...SIZE, env: { NO_COLOR: '1' } });
    const { output } = await t.done;
    expect(output).toMatch(EPOCH_BAR);
    expect(output).not.toMatch(/\x1b\[[\d;]*m/); // no SGR colour code
    expectCleanEnd(output);
  }, 60_000);

  it('TERM=dumb and --no-progress: plain lines, nothing redrawn', async () => {
    const dumb = await runInTerminal(`${TRAIN} --config ${config('dumb', { training: { epochs: 2 } })} --out ${sh(join(dir, 'dumb-run'))}`, { ...SIZE, env: { TERM: 'dumb' } }).done;
    expect(dumb.output).not.toMatch(/\x1b/); // no escape code at all
    expect(dumb.output).not.toMatch(BAR_CHARS);
    expect(dumb.output).toMatch(/^epoch 2\/2 {2}train loss/m);
    const plain = await runInTerminal(`${TRAIN} --config ${config('noprogress', { training: { epochs: 2 } })} --no-progress --out ${sh(join(dir, 'noprogress-run'))}`, SIZE).done;
    expect(plain.output).not.toMatch(BAR_CHARS);
    expect(plain.output).not.toContain('\x1b[?25l'); // the cursor never hidden
    expect(plain.output).toMatch(/\x1b\[36mval loss/); // colour stays
  }, 60_000);

  it('--json on the terminal: the bar never erases a JSON line', async () => {
    const t = runInTerminal(`${TRAIN} --config ${config('json', { training: { epochs: 2 } })} --kernel js --json --out ${sh(join(dir, 'json-run'))}`, SIZE);
    const { output } = await t.done;
    expect(output).toMatch(EPOCH_BAR);
    for (const screen of screens(output)) {
      const events = screen
        .text()
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { event: string }).event);
      expect(events).toEqual(['dataset', 'start', 'epoch', 'epoch', 'done']);
    }
  }, 60_000);
});

describe('nn-eval on a terminal', () => {
  let model: string;
  beforeAll(() => {
    model = join(dir, 'model.json');
    writeModelFile(model, handSetModel());
  });

  it('| head -3: the progress line is erased, not glued to the next line', async () => {
    // Five paths at once, the rest a second later: the progress line is on the screen when head leaves.
    const list = `(ls -d ${sh(join(dir, 'images'))}/* | head -5; sleep 1; ls -d ${sh(join(dir, 'images'))}/*)`;
    const t = runInTerminal(`${list} | ${EVAL} ${sh(model)} - | head -3; echo "status \${PIPESTATUS[1]}"`, SIZE);
    const { output } = await t.done;
    expect(output).toMatch(/nn-eval: 5 images, [\d,-]+ img\/s/); // drawn
    const text = expectCleanEnd(output);
    expect(text).toHaveLength(4);
    for (const line of text.slice(0, 3)) expect(line).toMatch(/^\/\S+\.jpg +\d\.\d{6} +(cat|dog)$/); // tabs shown as spaces
    expect(text[3]).toBe('status 0');
  }, 60_000);

  it('Ctrl-C: the progress line is erased, and a shell loop stops', async () => {
    const list = `(ls -d ${sh(join(dir, 'images'))}/*; sleep 30)`;
    const t = runInTerminal(`for i in 1 2; do echo "eval $i"; ${list} | ${EVAL} ${sh(model)} - > /dev/null; done; echo "loop ended"`, SIZE);
    await t.waitFor(/nn-eval: 200 images/);
    t.type('\x03');
    const { output } = await t.done;
    const text = expectCleanEnd(output);
    expect(text, visible(output)).toContain('eval 1');
    expect(text, visible(output)).not.toContain('eval 2');
    expect(text).not.toContain('loop ended');
    // The progress line ("N images, R img/s") is gone. The summary may be there: Ctrl-C also ends
    // the producer, and when nn-eval reads the end of its input before the signal, the run has
    // finished, and says so, before it dies by the signal.
    expect(text.join('\n')).not.toMatch(/img\/s/);
  }, 60_000);
});
