// nn-eval end to end: the built command (npm test builds dist/ first) run as
// a user runs it, `node bin/nn-eval.js ...`, often inside a bash pipeline, on images made here.
//
// Most checks use a model whose every answer is known in advance: logistic regression on 4x4 RGB
// with all 48 weights 8/48 and bias -4, so an image of uniform grey level v gets
//   logit = sum_i (8/48) (v/255) - 4 = 8 v / 255 - 4,   p_dog = sigmoid(8 v / 255 - 4).
// Uniform PNGs stay uniform through decoding and resizing, so p_dog is exact up to float32.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/data/decode.ts';
import { fillInputs, pixelTable } from '../src/data/batches.ts';
import { imageGeometry } from '../src/data/preprocessing.ts';
import { encodeModel, type Model, writeModelFile } from '../src/io/model-file.ts';
import { initParams, Network, planNetwork } from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { imageMlp } from './helpers/networks.ts';
import { makeTempDir, removeTempDir, writeBrokenFile, writeImage } from './helpers/images.ts';
import { builtPackage, runShell, sh, handSetModel } from './nn-eval-helpers.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** The hand-set model's answer for a uniform image of grey level v (see the top of the file). */
const pOf = (v: number) => sigmoid((8 * v) / 255 - 4);

let dir: string;
let evalCmd: string; // "node <package>/bin/nn-eval.js"
let modelPath: string;

/** Writes a uniform grey PNG of level v. */
async function grey(path: string, v: number, width = 8, height = 6): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: v, g: v, b: v } } })
    .png()
    .toFile(path);
}


// The labeled folder "known": grey level, label (from the name), and the hand-computed answer.
//   name          v    label  p_dog = sigmoid(8v/255 - 4)   called   -ln p(actual)
//   cat.1.png     30   cat    0.044838                    cat      0.045874
//   cat.2.png     250  cat    0.979023                    dog (x)  3.864337
//   dog.3.png     200  dog    0.906744                    dog      0.097895
//   dog.4.png     100  dog    0.296766                    cat (x)  1.214811
//   dog.5.png     160  dog    0.734896                    dog      0.308026
//   sub/7.png     120  none   0.441446                    cat      (unlabeled: not scored)
//   cat.6.jpg     truncated JPEG: skipped
// accuracy 3/5 = 0.6; log loss = (0.045874 + 3.864337 + 0.097895 + 1.214811 + 0.308026) / 5 = 1.106189
// confusion[actual][called]: cat {cat 1, dog 1}, dog {cat 1, dog 2}
const KNOWN: [string, number][] = [
  ['cat.1.png', 30],
  ['cat.2.png', 250],
  ['dog.3.png', 200],
  ['dog.4.png', 100],
  ['dog.5.png', 160],
  ['sub/7.png', 120],
];

async function run(args: string, options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runShell(`${evalCmd} ${args}`, { cwd: dir, ...options });
}

/** stderr must never hold a stack trace or a raw Node error. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Error:|node:internal|EPIPE/);
}

/** The prefix that runs a command line as a user that file permissions bind: none unless root. */
const unprivileged = process.getuid?.() === 0 ? 'setpriv --reuid=65534 --regid=65534 --clear-groups ' : '';

/** Whether nn-eval can run at all under `unprivileged` (setpriv present, the package readable by nobody). */
function canRunUnprivileged(): boolean {
  if (unprivileged === '') return true;
  const probe = spawnSync('bash', ['-c', `${unprivileged}node ${sh(join(import.meta.dirname, '..', 'bin', 'nn-eval.js'))} --version`], { cwd: '/', stdio: 'ignore', timeout: 30_000 });
  return probe.status === 0;
}

beforeAll(async () => {
  const pkg = await builtPackage();
  evalCmd = `node ${sh(join(pkg, 'bin', 'nn-eval.js'))}`;
  dir = makeTempDir('nn-eval-cli-');
  modelPath = join(dir, 'model.json');
  writeModelFile(modelPath, handSetModel());
  for (const [name, v] of KNOWN) await grey(join(dir, 'known', name), v);
  await writeBrokenFile(join(dir, 'known', 'cat.6.jpg'), 'truncated');
}, 120_000);
afterAll(() => removeTempDir(dir));

const ORDER = ['known/cat.1.png', 'known/cat.2.png', 'known/cat.6.jpg', 'known/dog.3.png', 'known/dog.4.png', 'known/dog.5.png', 'known/sub/7.png'];
const PREDICTED = ORDER.filter((p) => !p.endsWith('cat.6.jpg'));
const levelOf = (path: string) => KNOWN.find(([n]) => path.endsWith(n))![1];

describe('nn-eval output formats', () => {
  it('tsv (default): path, p_dog, label per image in sorted order; a broken file reported and skipped; summary on stderr', async () => {
    const r = await run('model.json known');
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows.map((row) => row[0])).toEqual(PREDICTED);
    for (const [path, p, label] of rows) {
      expect(Number(p)).toBeCloseTo(pOf(levelOf(path!)), 5);
      expect(label).toBe(pOf(levelOf(path!)) >= 0.5 ? 'dog' : 'cat');
    }
    // The reason is src/data's wording ("truncated image (...)" or "corrupt image (...)", by libvips version).
    expect(r.stderr).toMatch(/^nn-eval: skipped known\/cat\.6\.jpg: (truncated|corrupt) image/m);
    expect(r.stderr).toMatch(/^nn-eval: 6 images \(5 labeled, 1 unlabeled\), 1 skipped, /m);
    expect(r.stderr).toMatch(/accuracy +60\.00% +\(3 of 5 at threshold 0\.5\)/);
    expect(r.stderr).toMatch(/log loss +1\.1062/);
    // Accuracy per class: 1 of the 2 cats, 2 of the 3 dogs; the unlabeled one is called a cat.
    expect(r.stderr).toMatch(/per class +cats 50\.00% \(1 of 2\) +dogs 66\.67% \(2 of 3\)/);
    expect(r.stderr).toMatch(/unlabeled +1 cat, 0 dogs \(at threshold 0\.5\)/);
    expect(r.stderr).not.toMatch(/\x1b\[/); // not a terminal: no colour
    expectNoStack(r.stderr);
  });

  it('csv and jsonl carry the same answers, parsed back', async () => {
    const tsv = await run('model.json known -q');
    const csv = await run('model.json known --format csv -q');
    const jsonl = await run('model.json known --format jsonl -q');
    for (const r of [tsv, csv, jsonl]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(''); // --quiet: not even the skipped file
    }
    const fromTsv = tsv.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    const csvLines = csv.stdout.trimEnd().split('\n');
    expect(csvLines[0]).toBe('path,p_dog,label');
    expect(csvLines.slice(1).map((l) => l.split(','))).toEqual(fromTsv);
    const objects = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { path: string; p_dog: number; label: string; actual: string | null });
    expect(objects.map((o) => [o.path, o.p_dog.toFixed(6), o.label])).toEqual(fromTsv);
    expect(fromTsv.every((row) => /^[01]\.\d{6}$/.test(row[1]!))).toBe(true); // fixed decimals
    expect(jsonl.stdout.match(/"p_dog":[^,]*/g)).toEqual(fromTsv.map((row) => `"p_dog":${row[1]}`));
    expect(objects.map((o) => o.actual)).toEqual(['cat', 'cat', 'dog', 'dog', 'dog', null]);
  });

  it('--threshold moves the cat/dog line', async () => {
    const r = await run('model.json known --threshold 0.25 -q');
    // p_dog 0.296766 (dog.4) is now a dog; 0.044838 (cat.1) is still a cat.
    expect(r.stdout.trimEnd().split('\n').map((l) => l.split('\t')[2])).toEqual(['cat', 'dog', 'dog', 'dog', 'dog', 'dog']);
  });

  it('--metrics writes accuracy, log loss and the confusion matrix of the hand-computed case', async () => {
    const r = await run('model.json known --metrics out/metrics.json');
    // The folder "out" does not exist: a clear error before any work.
    expect(r).toEqual({ code: 2, signal: null, stdout: '', stderr: 'nn-eval: out/metrics.json: cannot write the metrics: no such file or folder\n' });
    const ok = await run('model.json known --metrics metrics.json --clip 0.05 > /dev/null');
    expect(ok.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(m).toMatchObject({ images: 6, labeled: 5, unlabeled: 1, skipped: 1, threshold: 0.5, accuracy: 0.6, clip: 0.05 });
    expect(m.confusion).toEqual({ cat: { cat: 1, dog: 1 }, dog: { cat: 1, dog: 2 } });
    expect(m.classAccuracy).toEqual({ cat: 0.5, dog: 2 / 3 });
    expect(m.unlabeledPredicted).toEqual({ cat: 1, dog: 0 });
    expect(m.logLoss).toBeCloseTo(1.106189, 5);
    // Clipped to [0.05, 0.95]: cat.1's 0.044838 becomes 0.05 (-ln 0.95 = 0.051293) and cat.2's
    // 0.979023 becomes 0.95 (-ln 0.05 = 2.995732):
    // (0.051293 + 2.995732 + 0.097895 + 1.214811 + 0.308026) / 5 = 0.933551
    expect(m.clippedLogLoss).toBeCloseTo(0.933551, 5);
    expect(m.skippedFiles).toEqual([{ path: 'known/cat.6.jpg', reason: expect.stringMatching(/^(truncated|corrupt) image/) }]);
  });
});

describe('nn-eval inputs', () => {
  it('reads newline-separated paths from stdin, in their order (folders expanded, missing paths skipped)', async () => {
    const input = ['known/dog.4.png', 'known/sub', 'known/gone.png', '', `${dir}/known/cat.1.png`].join('\n') + '\n';
    const r = await run('model.json - --format jsonl', { input });
    expect(r.code).toBe(0);
    const paths = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { path: string }).path);
    expect(paths).toEqual(['known/dog.4.png', 'known/sub/7.png', `${dir}/known/cat.1.png`]);
    // A relative path is looked for from the current folder, and the message names that folder.
    expect(r.stderr).toContain(`nn-eval: skipped known/gone.png: no such file or folder in ${dir} (the current folder, which relative paths on stdin start from)\n`);
    expect(r.stderr).toMatch(/^nn-eval: 3 images \(2 labeled, 1 unlabeled\), 1 skipped/m);
  });

  it('`ls | nn-eval MODEL -`: bare names work from the folder they name, and elsewhere say where they were looked for', async () => {
    const inside = await runShell(`ls | ${evalCmd} ../model.json - -q`, { cwd: join(dir, 'known') });
    expect(inside.code).toBe(0);
    expect(inside.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0])).toEqual(['cat.1.png', 'cat.2.png', 'dog.3.png', 'dog.4.png', 'dog.5.png', 'sub/7.png']);
    const outside = await run(`model.json - < <(ls known)`);
    expect(outside.stderr).toContain(`nn-eval: skipped cat.1.png: no such file or folder in ${dir} (the current folder, which relative paths on stdin start from)\n`);
  });

  it('files, folders and stdin mix in the order given; labels come from class folders too', async () => {
    await grey(join(dir, 'classes', 'Dogs', 'a.png'), 200);
    await grey(join(dir, 'classes', 'cats', 'b.png'), 30);
    const r = await run('model.json classes/Dogs/a.png - classes --format jsonl --metrics mixed.json', { input: 'known/dog.5.png\n' });
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { path: string; actual: string | null });
    expect(rows.map((o) => `${o.path}:${o.actual}`)).toEqual(['classes/Dogs/a.png:dog', 'known/dog.5.png:dog', 'classes/cats/b.png:cat', 'classes/Dogs/a.png:dog']);
    expect(JSON.parse(readFileSync(join(dir, 'mixed.json'), 'utf8'))).toMatchObject({ images: 4, labeled: 4, accuracy: 1 });
  });

  it('writes each answer as soon as it is ready: a slow producer on stdin gets its line before sending the next path', async () => {
    const pkg = await builtPackage();
    const child = spawn('node', [join(pkg, 'bin', 'nn-eval.js'), modelPath, '-'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        stdout += s;
        if (stdout.includes('\n')) resolve(stdout);
      });
      child.on('close', () => reject(new Error(`nn-eval ended before writing a line: ${stderr}`)));
    });
    child.stdin.write('known/dog.3.png\n'); // stdin stays open: the answer must not wait for its end
    expect(await firstLine).toMatch(/^known\/dog\.3\.png\t0\.906744\tdog\n$/);
    child.stdin.end('known/cat.1.png\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toBe('known/dog.3.png\t0.906744\tdog\nknown/cat.1.png\t0.044838\tcat\n');
  }, 30_000);

  it('`| head -1` ends quietly with exit 0 although the reader left early', async () => {
    // Lines of about 500 bytes: 400 of them overflow the 64 KiB pipe, so nn-eval is still writing
    // when head exits and its next write fails (EPIPE).
    const deep = join('long', 'a'.repeat(240), 'b'.repeat(240));
    await grey(join(dir, deep, 'x.png'), 90);
    const list = join(dir, 'list.txt');
    writeFileSync(list, `${deep}/x.png\n`.repeat(400));
    const r = await runShell(`set -o pipefail; ${evalCmd} model.json - --batch-size 4 < list.txt | head -1; echo "status=\${PIPESTATUS[0]}"`, { cwd: dir });
    expect(r.stdout).toMatch(new RegExp(`^${deep}/x\\.png\\t[0-9.]+\\tcat\\nstatus=0\\n$`));
    expect(r.code).toBe(0);
    expectNoStack(r.stderr);
    expect(r.stderr).not.toMatch(/400 images/); // it did stop early, at the closed pipe, not after all 400
  });

  it('a closed stderr does not stop the data on stdout', async () => {
    // stderr's reader (`true`) is gone before node has even started: every message fails (EPIPE).
    const r = await runShell(`${evalCmd} model.json ${'known '.repeat(40)} --batch-size 8 2> >(true) > all.tsv; echo "status=$?"; wc -l < all.tsv`, { cwd: dir });
    expect(r.stdout).toBe(`status=0\n${40 * PREDICTED.length}\n`);
  });

  it('every input broken or unreadable: each reported, exit 2', async () => {
    await writeBrokenFile(join(dir, 'broken', 'a.jpg'), 'not-an-image');
    await writeBrokenFile(join(dir, 'broken', 'b.jpg'), 'empty');
    await writeBrokenFile(join(dir, 'broken', 'c.jpg'), 'dangling-link');
    await writeBrokenFile(join(dir, 'broken', 'd.jpg'), 'folder');
    const r = await run('model.json broken');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const name of ['a', 'b', 'c', 'd']) expect(r.stderr).toMatch(new RegExp(`^nn-eval: skipped broken/${name}\\.jpg: `, 'm'));
    expect(r.stderr).toMatch(/^nn-eval: no image could be read \(4 skipped\)$/m);
    expectNoStack(r.stderr);
  });
});

describe('nn-eval errors', () => {
  it('a bad model file: one line naming the file and the fault, exit 2, nothing on stdout', async () => {
    writeFileSync(join(dir, 'empty.json'), '');
    writeFileSync(join(dir, 'truncated.json'), encodeModel(handSetModel()).slice(0, 100));
    writeFileSync(join(dir, 'config.json'), '{"optimizer":{"type":"sgd"}}');
    const cases: [string, RegExp][] = [
      ['missing.json', /^nn-eval: missing\.json: cannot read the model file: no such file or folder\n$/],
      ['empty.json', /^nn-eval: empty\.json: bad model file: the file is empty\n$/],
      ['truncated.json', /^nn-eval: truncated\.json: bad model file: not valid JSON .*truncated\n$/],
      ['config.json', /^nn-eval: config\.json: bad model file: format: expected "nn-train-model", found nothing: this is not an nn-train model file\n$/],
      // The model forgotten, images first: the message says which argument is the model.
      ['known', /^nn-eval: known: cannot read the model file: is a folder, expected a file; the first argument is the model file \(model\.json of an nn-train run\), the images come after it\n$/],
      ['known/dog.3.png', /^nn-eval: known\/dog\.3\.png: bad model file: .*; the first argument is the model file/],
    ];
    for (const [file, message] of cases) {
      const r = await run(`${file} known`);
      expect({ file, code: r.code, stdout: r.stdout }).toEqual({ file, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    }
  });

  // File permissions do not bind root: as root the check runs as the user nobody (setpriv), and
  // is skipped, saying so, where that is not possible.
  it.runIf(canRunUnprivileged())('an unreadable model file: exit 2 naming it, before any output (needs a non-root user)', async () => {
    // A folder of its own that the unprivileged user can enter; the model inside it is mode 000.
    const open = makeTempDir('nn-eval-locked-');
    try {
      chmodSync(open, 0o755);
      writeFileSync(join(open, 'locked.json'), encodeModel(handSetModel()));
      chmodSync(join(open, 'locked.json'), 0o000);
      mkdirSync(join(open, 'known'));
      const locked = await runShell(`${unprivileged}${evalCmd} locked.json known`, { cwd: open });
      expect(locked).toMatchObject({ code: 2, stdout: '', stderr: 'nn-eval: locked.json: cannot read the model file: permission denied\n' });
    } finally {
      removeTempDir(open);
    }
  });

  it('a missing input path and a missing argument: exit 2 naming it, before any output', async () => {
    const r = await run('model.json known/dog.3.png no/such/dir');
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'nn-eval: no/such/dir: no such file or folder\n' });
    const usage = await run('model.json');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('nn-eval: give the images or folders to predict after the model: nn-eval model.json <images, folders or ->\n');
    const forgot = await run('known');
    expect(forgot).toMatchObject({ code: 2, stdout: '', stderr: 'nn-eval: known: the first argument is the model file (model.json of an nn-train run), then the images: nn-eval runs/NAME/model.json known\n' });
  });

  it('--help lists the options and exit codes on stdout, exit 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--format <name>/);
    expect(r.stdout).toMatch(/Exit codes: 0 done/);
  });
});

describe('nn-eval --format kaggle', () => {
  it('header id,label; rows sorted by numeric id; probabilities clipped to [c, 1-c]', async () => {
    // Ids written out of order; levels 0 and 255 give p_dog 0.017986 and 0.982014, outside [0.05, 0.95].
    const levels: Record<number, number> = { 10: 255, 2: 0, 100: 200, 1: 30, 33: 120 };
    for (const [id, v] of Object.entries(levels)) await grey(join(dir, 'test1', `${id}.png`), v);
    await writeBrokenFile(join(dir, 'test1', '7.jpg'), 'truncated');
    const r = await run('model.json test1 --format kaggle --clip 0.05');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('id,label');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((row) => row[0])).toEqual(['1', '2', '10', '33', '100']);
    const clip = (p: number) => Math.min(Math.max(p, 0.05), 0.95);
    for (const [id, label] of rows) expect(Number(label)).toBeCloseTo(clip(pOf(levels[Number(id)]!)), 5);
    expect(rows.find((row) => row[0] === '2')![1]).toBe('0.050000');
    expect(rows.find((row) => row[0] === '10')![1]).toBe('0.950000');
    expect(r.stderr).toMatch(/skipped test1\/7\.jpg/);
    expect(r.stderr).toMatch(/the submission lacks the 1 image\(s\) that could not be read/);
    // The default clip is 0.005: 0.982014 stays as it is.
    const d = await run('model.json test1 --format kaggle -q');
    expect(d.stdout.split('\n')).toContain('10,0.982014');
  });

  it('names that are not N.jpg, or a repeated id, are a usage error before any output', async () => {
    const r = await run('model.json test1 known --format kaggle');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe('nn-eval: known/cat.1.png: --format kaggle needs images named N.jpg (N = the Kaggle id), as in the test1 folder\n');
    mkdirSync(join(dir, 'again'), { recursive: true });
    symlinkSync(join(dir, 'test1', '2.png'), join(dir, 'again', '2.png'));
    const twice = await run('model.json test1 again --format kaggle');
    expect(twice).toMatchObject({ code: 2, stdout: '' });
    expect(twice.stderr).toMatch(/^nn-eval: again\/2\.png: id 2 is given twice \(also test1\/2\.png\)/);
  });
});

describe('nn-eval preprocessing', () => {
  it('gives the probabilities of the training pipeline and the reference network (hidden layer, standardisation, any image kind)', async () => {
    const network = imageMlp(8, 8, 3, [5], 'tanh');
    const arch = planNetwork(network);
    const params = new Float32Array(arch.paramCount);
    initParams(arch, params, new Rng(3));
    const model: Model = {
      network,
      preprocessing: { width: 8, height: 8, channels: 3, fit: 'cover', scale: 1 / 255, mean: [0.45, 0.5, 0.55], std: [0.2, 0.25, 0.3] },
      params,
      stats: new Float32Array(0),
      meta: {},
    };
    writeModelFile(join(dir, 'tanh.json'), model);
    const kinds = ['jpeg', 'png', 'webp', 'cmyk-jpeg', 'grayscale-png', 'rgba-png', 'png-16bit', 'exif-rotated-jpeg'] as const;
    const paths: string[] = [];
    for (const [i, kind] of kinds.entries()) {
      const ext = kind.includes('png') ? 'png' : kind === 'webp' ? 'webp' : 'jpg';
      paths.push(join(dir, 'kinds', `${i}-${kind}.${ext}`));
      await writeImage(paths[i]!, kind, { width: 30, height: 17, seed: i + 1 });
    }
    // The reference: src/data's decoder and pixel table, then src/nn's single-thread network.
    const d = 8 * 8 * 3;
    const pixels = new Uint8Array(paths.length * d);
    for (const [i, p] of paths.entries()) pixels.set(await decodeImage(p, model.preprocessing), i * d);
    const x = new Float32Array(paths.length * d);
    fillInputs(pixels, paths.length, imageGeometry(model.preprocessing), pixelTable(model.preprocessing), x);
    const expected = new Float32Array(paths.length);
    new Network(arch, paths.length, params).predict(x, paths.length, expected);

    const r = await run('tanh.json kinds --format jsonl');
    expect(r.code).toBe(0);
    const got = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { path: string; p_dog: number });
    expect(got.map((o) => join(dir, o.path))).toEqual(paths);
    got.forEach((o, i) => expect(o.p_dog).toBeCloseTo(expected[i]!, 5));
    // Not all alike: the check would be weak if the network said the same for every image.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.01);
  });
});

describe('nn-eval --tta', () => {
  it('answers the mean of the image and of its mirror image: the mean of a folder and of its mirrored copy', async () => {
    // A model that is not symmetric left-right, and pictures at its size (no resizing), so that
    // sharp's flop() of a file is exactly the mirror image nn-eval makes of its pixels.
    const network = imageMlp(8, 8, 3, [6], 'tanh');
    const arch = planNetwork(network);
    const params = new Float32Array(arch.paramCount);
    initParams(arch, params, new Rng(11));
    writeModelFile(join(dir, 'tta.json'), { network, preprocessing: { width: 8, height: 8, channels: 3, fit: 'fill', scale: 1 / 255, mean: null, std: null }, params, stats: new Float32Array(0), meta: {} });
    for (let i = 0; i < 6; i++) {
      await writeImage(join(dir, 'tta', 'plain', `${i}.png`), 'png', { width: 8, height: 8, seed: i + 1 });
      mkdirSync(join(dir, 'tta', 'mirrored'), { recursive: true });
      await sharp(join(dir, 'tta', 'plain', `${i}.png`)).flop().png().toFile(join(dir, 'tta', 'mirrored', `${i}.png`));
    }
    const column = async (args: string) => {
      const r = await run(`tta.json ${args} -q`);
      expect(r.code).toBe(0);
      return r.stdout.trimEnd().split('\n').map((l) => Number(l.split('\t')[1]));
    };
    const plain = await column('tta/plain');
    const mirrored = await column('tta/mirrored');
    const tta = await column('tta/plain --tta');
    expect(Math.max(...plain.map((p, i) => Math.abs(p - mirrored[i]!)))).toBeGreaterThan(1e-3); // the mirror changes the answer
    // Each printed with 6 decimals, so the three agree to 1e-6.
    tta.forEach((p, i) => expect(Math.abs(p - (plain[i]! + mirrored[i]!) / 2)).toBeLessThanOrEqual(1.0000001e-6));
    expect(await column('tta/mirrored --tta')).toEqual(tta); // and a mirrored folder gives the same answers
  }, 60_000);
});
