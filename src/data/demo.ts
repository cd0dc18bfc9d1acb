/**
 * `npm run demo`, step 1: a small synthetic two-class image set, so a new user sees training work
 * without downloading anything. Built to dist/data/demo.js; `node dist/data/demo.js [folder]`
 * writes `data/demo/` (or the folder given) unless it already holds images.
 *
 * The two kinds of picture, 64x64 JPEG named like Kaggle's (cat.N.jpg, dog.N.jpg):
 *   "cats": warm colours (red-orange-yellow), stripes running roughly horizontally;
 *   "dogs": cool colours (green-blue-violet), stripes running roughly vertically.
 * Each picture also varies at random (seeded): stripe angle, width and contrast, a blob of any colour,
 * pixel noise; and a quarter of the pictures take a colour of any hue and a sixth a stripe angle of any
 * direction, so that neither cue alone decides: learnable, but not at a glance.
 */
import { existsSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { UserError } from '../errors.ts';
import { makeFolder } from '../files.ts';
import { Rng } from '../random/rng.ts';
import { isImageName, LABEL_NAMES, type Label } from './find.ts';

/** HSV (h in degrees, s and v in [0, 1]) to RGB bytes. */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const [r, g, b] =
    hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/**
 * Draws one synthetic picture of class `label` (0 cat, 1 dog) as RGB bytes (size, size, 3), HWC.
 * Deterministic for a given (label, seed, size).
 */
export function drawSyntheticImage(label: Label, seed: number, size = 64): Uint8Array {
  const rng = new Rng(seed);
  // Colour: warm hues around 25 degrees for cats, cool ones around 200 for dogs; 1 in 4 any hue.
  const hue = rng.uniform() < 0.25 ? rng.uniform() * 360 : (label === 0 ? 25 : 200) + (rng.uniform() - 0.5) * 90;
  const base = hsvToRgb(hue, 0.45 + rng.uniform() * 0.45, 0.45 + rng.uniform() * 0.45);
  const dark = hsvToRgb(hue + (rng.uniform() - 0.5) * 40, 0.5 + rng.uniform() * 0.5, 0.1 + rng.uniform() * 0.3);
  // Stripes: near horizontal for cats, near vertical for dogs (+-25 degrees); 1 in 6 any direction.
  const angleDeg = rng.uniform() < 1 / 6 ? rng.uniform() * 180 : (label === 0 ? 0 : 90) + (rng.uniform() - 0.5) * 50;
  const angle = (angleDeg * Math.PI) / 180;
  const period = size / (2.5 + rng.uniform() * 4); // pixels per stripe pair
  const phase = rng.uniform() * 2 * Math.PI;
  const contrast = 0.35 + rng.uniform() * 0.55;
  // Stripes vary along the direction perpendicular to their run: (-sin, cos) of the angle.
  const nx = -Math.sin(angle);
  const ny = Math.cos(angle);
  // A distracting blob of any colour.
  const blob = hsvToRgb(rng.uniform() * 360, rng.uniform(), 0.3 + rng.uniform() * 0.7);
  const bx = rng.uniform() * size;
  const by = rng.uniform() * size;
  const br = size * (0.08 + rng.uniform() * 0.2);
  const noise = 6 + rng.uniform() * 20;

  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = 0.5 + 0.5 * Math.sin(((x * nx + y * ny) / period) * 2 * Math.PI + phase); // 0..1
      const w = t * contrast; // weight of the dark stripe colour
      const inBlob = (x - bx) * (x - bx) + (y - by) * (y - by) < br * br;
      for (let c = 0; c < 3; c++) {
        const v = inBlob ? blob[c]! : base[c]! * (1 - w) + dark[c]! * w;
        const jitter = (rng.uniform() - 0.5) * 2 * noise;
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + jitter)));
      }
    }
  }
  return out;
}

/** Writes one synthetic picture (see drawSyntheticImage) as JPEG, PNG or WebP, by the path's extension. */
export async function writeSyntheticImage(path: string, label: Label, seed: number, size = 64): Promise<void> {
  const image = sharp(drawSyntheticImage(label, seed, size), { raw: { width: size, height: size, channels: 3 } });
  const lower = path.toLowerCase();
  const encoded = lower.endsWith('.png') ? image.png() : lower.endsWith('.webp') ? image.webp({ quality: 90 }) : image.jpeg({ quality: 90 });
  await encoded.toFile(path);
}

export interface DemoOptions {
  /** Pictures per class (default 300). */
  perClass?: number;
  /** Side in pixels (default 64). */
  size?: number;
  seed?: number;
}

/**
 * Writes `perClass` cats and as many dogs into `dir` (created if needed) with Kaggle's names
 * (cat.0.jpg ... dog.N.jpg). Returns the number of files written.
 */
export async function generateDemoImages(dir: string, options: DemoOptions = {}): Promise<number> {
  const { perClass = 300, size = 64, seed = 2024 } = options;
  makeFolder(dir);
  const jobs: { path: string; label: Label; seed: number }[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const label of [0, 1] as const) {
      // Distinct seeds for every (label, i), derived from the base seed.
      jobs.push({ path: join(dir, `${LABEL_NAMES[label]}.${i}.jpg`), label, seed: (seed * 1_000_003 + i * 2 + label) >>> 0 });
    }
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await writeSyntheticImage(job.path, job.label, job.seed, size);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return jobs.length;
}

/** True when `dir` exists and holds at least one image file directly inside. */
function holdsImages(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => isImageName(name) && !name.startsWith('.'));
  } catch {
    return false;
  }
}

/**
 * Makes `dir` (default data/demo) unless it already holds images. The pictures are written into a
 * temporary sibling folder that is renamed into place at the end, so an interrupted run never leaves
 * a half-made set that a later run would take as complete.
 */
export async function ensureDemoImages(dir: string, options: DemoOptions = {}): Promise<{ created: boolean; count: number }> {
  if (holdsImages(dir)) return { created: false, count: readdirSync(dir).filter(isImageName).length };
  if (existsSync(dir)) {
    if (readdirSync(dir).length > 0) throw new UserError(`${dir}: exists but holds no images; remove it or name another folder`);
    rmdirSync(dir);
  }
  makeFolder(dirname(resolve(dir)));
  const temp = `${resolve(dir)}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    const count = await generateDemoImages(temp, options);
    renameSync(temp, dir);
    return { created: true, count };
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const dir = argv[0] ?? join('data', 'demo');
  const started = performance.now();
  try {
    const { created, count } = await ensureDemoImages(dir);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      created
        ? `${dir}: wrote ${count} synthetic images (cat.N.jpg and dog.N.jpg) in ${seconds} s\n`
        : `${dir}: already holds ${count} images, kept (delete the folder to make new ones)\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`demo: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`demo: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
