/**
 * The image pipeline's speed and memory: first pass (list, decode + resize, write the cache), second
 * pass (read the cache), and peak resident memory during the first pass; with --pillow, Pillow's rate
 * on the same images, measured between nn-train's runs.
 *
 *   npm run build && flock /tmp/bench.lock npm run bench:data -- --data DIR [options]
 *
 *   --data DIR          folder of images (required), e.g. data/train
 *   --runs N            runs (default 3); the figures are medians
 *   --limit N           only N images of DIR (loadDataset's limit; default all)
 *   --width/--height N  output size (default 64x64); --channels 1|3 (default 3); --fit fill|cover|contain
 *   --resize NAME       linear (default) | nearest | cubic | mitchell | lanczos3 (data.resize)
 *   --processes auto|N  decoder processes (default auto: one per core)
 *   --pillow            after each nn-train run, run src/bench/pillow_reference.py (one process, plain
 *                       and with draft()) on the very same images, and print both side by side
 *   --python PATH       the Python with Pillow for --pillow (default /usr/bin/python3)
 *   --compare           instead: decoding rates of several ways to drive sharp, in interleaved rounds,
 *                       to show where the time goes (default --limit 3000 for this mode)
 *   --kernels           instead: how far each data.resize is from lanczos3 (nn-train's resize before
 *                       data.resize), in pixel levels, on the images (default --limit 1000)
 *   --make-photos OUT   instead: write a test set of photos of about 450x370, the size Kaggle's own
 *                       downloads have, made from the images of --data (default --limit 2500; see makePhotos)
 *
 * Every run is a fresh Node process (started by this one) with a fresh, empty cache folder in the
 * temporary folder, so no run profits from another's warm JIT or sharp state (the image files are in
 * the OS page cache after the first run, as they are for a user's second training run).
 *
 * Output: one line per run and a summary on stderr; last line on stdout, one JSON object:
 *   {"images":N,"decodeImagesPerSecond":X,"cpuMsPerImage":C,"cacheLoadSeconds":Y,"peakRssBytes":Z}
 *   (with --pillow also "pillow":{"plain":P,"draft":Q} in images/s)
 * decodeImagesPerSecond: images / time from the start of the decoder processes to the last decoded
 *   image (their start-up included; listing and statting the files before, and writing the cache
 *   after, are reported apart; with --processes 0, from the end of the bench's own listing).
 * cpuMsPerImage: CPU time (user + system) of this process over that time and of its decoder processes
 *   (all their life) until the last image is decoded, per image: what the rate costs, and a figure a
 *   busy machine disturbs less.
 * cacheLoadSeconds: loadDataset from the cache, folder listing and checks included.
 * peakRssBytes: peak resident memory of the first pass, as the peak of the summed Pss (proportional set
 *   size) of the process and its decoder processes, sampled every 250 ms from /proc (Linux only); the sum
 *   of their separate peak RSS, which counts the shared node and libvips pages once per process, is
 *   printed next to it.
 * (--compare prints {"compare":{name: imagesPerSecond, ...},"images":N} instead; --kernels
 * {"kernels":{resize: meanAbsoluteDifference, ...},"images":N}.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { reportError } from '../cli/common.ts';
import { loadDataset } from '../data/dataset.ts';
import { bytesPerImage, decodeImage, decodeImageBytes, readImageFile, type DecodeSettings } from '../data/decode.ts';
import { decodeImages, decoderProcessCount } from '../data/decode-stream.ts';
import { findImages } from '../data/find.ts';
import { sampleFiles } from '../data/dataset.ts';
import { EXIT, UserError } from '../errors.ts';
import { FIT_NAMES, RESIZE_NAMES, type FitName, type ResizeName } from '../data/preprocessing.ts';

interface Options {
  data: string;
  runs: number;
  limit: number | null;
  settings: DecodeSettings;
  processes: number | 'auto';
  pillow: boolean;
  python: string;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= 1)) throw new UserError(`--${name}: expected a whole number >= 1, found ${JSON.stringify(text)}`);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

// ---- peak memory of this process and its decoder processes (Linux /proc; 0 elsewhere) ----

function procField(pid: number | 'self', file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples, every 250 ms, the memory of this process and the decoder processes added to it.
 * - sumOfPeakRss: each process's own peak RSS (VmHWM), added up. Overstates the total: pages of the
 *   node binary and libvips shared by the processes are counted once per process.
 * - peakPss: the peak of the summed proportional set size (Pss, shared pages split between their
 *   sharers): the memory the group really holds, as `smem` reports it.
 */
function watchMemory(): { add: (pids: number[]) => void; stop: () => { peakRss: number[]; peakPss: number } } {
  const hwm = new Map<number | 'self', number>([['self', 0]]);
  let peakPss = 0;
  const sample = (): void => {
    let pss = 0;
    for (const pid of hwm.keys()) {
      hwm.set(pid, Math.max(hwm.get(pid)!, procField(pid, 'status', 'VmHWM')));
      pss += procField(pid, 'smaps_rollup', 'Pss');
    }
    peakPss = Math.max(peakPss, pss);
  };
  // Not more often: reading smaps_rollup walks the page tables of the process and holds its memory
  // map lock meanwhile, which slowed the decoders by a fifth when sampled every 25 ms.
  const timer = setInterval(sample, 250);
  return {
    add: (pids) => pids.forEach((p) => hwm.set(p, 0)),
    stop: () => {
      sample();
      clearInterval(timer);
      hwm.set('self', Math.max(hwm.get('self')!, process.resourceUsage().maxRSS * 1024));
      return { peakRss: [...hwm.values()], peakPss }; // this process first
    },
  };
}

// ---- the passes, each run in a child process of this script ----

interface FirstPass {
  images: number;
  seconds: number;
  decodeSeconds: number;
  findSeconds: number;
  writeSeconds: number;
  processes: number;
  /** CPU seconds of this process while it decoded, and of its decoder processes (all their life, start-up included), until the last image was decoded. */
  cpuSeconds: number;
  /** Of which the decoder processes'. */
  decoderCpuSeconds: number;
  /** Peak RSS of this process, then of each decoder process. */
  peakRssBytes: number[];
  peakPssBytes: number;
}

async function firstPass(o: Options, cacheDir: string): Promise<FirstPass> {
  const t0 = performance.now();
  // Find and sample as loadDataset does, to split the time into its phases.
  const found = await findImages(o.data);
  let files = found.files.filter((f) => f.label !== null);
  if (o.limit !== null) files = sampleFiles(files, o.limit);
  const tFind = performance.now();
  const watch = watchMemory();
  let decoders: number[] = [];
  // Decoding starts when the decoder processes do (loadDataset lists and stats the files again
  // first, and looks for a cache); in this process (--processes 0), right after the listing.
  let tDecodeStart = tFind;
  let cpuAtStart = process.cpuUsage();
  let tDecoded = 0;
  let cpuSeconds = 0;
  let decoderCpuSeconds = 0;
  const ds = await loadDataset({
    dir: o.data,
    preprocessing: o.settings,
    limit: o.limit,
    cacheDir,
    decode: {
      processes: o.processes,
      onPool: (pids) => {
        decoders = pids;
        watch.add(pids);
        tDecodeStart = performance.now();
        cpuAtStart = process.cpuUsage();
      },
    },
    onProgress: (done, total) => {
      if (done !== total) return;
      tDecoded = performance.now();
      const own = process.cpuUsage(cpuAtStart);
      decoderCpuSeconds = decoders.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
      cpuSeconds = (own.user + own.system) / 1e6 + decoderCpuSeconds;
    },
  });
  const t1 = performance.now();
  const memory = watch.stop();
  if (ds.fromCache) throw new Error('first pass came from the cache');
  return {
    images: ds.labels.length,
    seconds: (t1 - t0) / 1000,
    findSeconds: (tFind - t0) / 1000,
    decodeSeconds: (tDecoded - tDecodeStart) / 1000,
    writeSeconds: (t1 - tDecoded) / 1000,
    processes: decoders.length,
    cpuSeconds,
    decoderCpuSeconds,
    peakRssBytes: memory.peakRss,
    peakPssBytes: memory.peakPss,
  };
}

async function cachePass(o: Options, cacheDir: string): Promise<{ images: number; seconds: number }> {
  const t0 = performance.now();
  const ds = await loadDataset({ dir: o.data, preprocessing: o.settings, limit: o.limit, cacheDir });
  const seconds = (performance.now() - t0) / 1000;
  if (!ds.fromCache) throw new Error(`second pass did not use the cache (${ds.cacheNote ?? 'no note'})`);
  return { images: ds.labels.length, seconds };
}

// ---- --compare: ways to drive sharp, decode only ----

const STRATEGIES = [
  'metadata-only',
  'sharp-defaults',
  'in-process-lanczos3',
  'in-process-from-bytes',
  'in-process',
  'in-process-cache-on',
  'in-process-vips2',
  'in-process-uv1',
  'in-process-uv2',
  'worker-threads-2',
  'processes-2-lanczos3',
  'processes-2',
  'processes-3',
] as const;
type Strategy = (typeof STRATEGIES)[number];

const STRATEGY_NOTES: Record<Strategy, string> = {
  'metadata-only': 'sharp(path).metadata() only, 8 in flight: the per-image floor of sharp',
  'sharp-defaults': 'plain sharp(path).resize().raw().toBuffer() with sharp defaults (lanczos3), 8 in flight',
  'in-process-lanczos3': 'our decodeImage with resize lanczos3 (sharp resizes, its own shrink-on-load), 4 in flight',
  'in-process-from-bytes': 'decodeImageBytes without the file, so no DCT scaling of ours: libvips shrinks to twice the size, then our resize, 4 in flight',
  'in-process': 'our decodeImage (linear: DCT scaling, our resize), one process, 4 in flight (sharp cache off, 1 vips thread/image)',
  'in-process-cache-on': 'as in-process, with sharp\'s operation cache back on (its defaults)',
  'in-process-vips2': 'as in-process, sharp.concurrency(2): 2 vips threads per image',
  'in-process-uv1': 'as in-process, UV_THREADPOOL_SIZE=1 (default 4)',
  'in-process-uv2': 'as in-process, UV_THREADPOOL_SIZE=2',
  'worker-threads-2': '2 worker_threads in one process, each loading sharp (sharp resize), 2 in flight each',
  'processes-2-lanczos3': 'our DecoderPool, 2 decoder processes, resize lanczos3 (nn-train before data.resize)',
  'processes-2': 'our DecoderPool: 2 decoder processes (the default on 2 cores)',
  'processes-3': 'our DecoderPool: 3 decoder processes',
};

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux; 0 elsewhere). */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function inFlight(paths: string[], k: number, one: (p: string) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < paths.length) await one(paths[next++]!);
  };
  await Promise.all(Array.from({ length: k }, lane));
}

/** The worker_threads variant: each worker loads sharp itself and decodes its share of the paths. */
async function decodeInWorkers(paths: string[], settings: DecodeSettings, workers: number): Promise<void> {
  const sharpPath = createRequire(import.meta.url).resolve('sharp');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const sharp = require(workerData.sharpPath);
    sharp.cache(false); sharp.concurrency(1);
    const { paths, s } = workerData;
    let next = 0;
    const lane = async () => { while (next < paths.length) {
      const p = paths[next++];
      await sharp(fs.readFileSync(p), { failOn: 'error', autoOrient: true })
        .resize(s.width, s.height, { fit: s.fit }).toColourspace(s.channels === 3 ? 'srgb' : 'b-w').raw().toBuffer();
    } };
    Promise.all([lane(), lane()]).then(() => parentPort.postMessage('done'));`;
  await Promise.all(
    Array.from(
      { length: workers },
      (_, w) =>
        new Promise<void>((resolve, reject) => {
          const share = paths.filter((_, i) => i % workers === w);
          const worker = new Worker(code, { eval: true, workerData: { sharpPath, paths: share, s: settings } });
          worker.on('message', () => void worker.terminate().then(() => resolve()));
          worker.on('error', reject);
        }),
    ),
  );
}

/** Decodes the images one way; returns the wall time and the CPU time of all processes involved. */
async function strategyPass(o: Options, strategy: Strategy): Promise<{ images: number; seconds: number; cpuSeconds: number }> {
  const { default: sharp } = await import('sharp');
  const found = await findImages(o.data);
  let files = found.files.filter((f) => f.label !== null);
  if (o.limit !== null) files = sampleFiles(files, o.limit);
  const paths = files.map((f) => f.path);
  const s: DecodeSettings = strategy.endsWith('lanczos3') ? { ...o.settings, resize: 'lanczos3' } : o.settings;
  if (strategy !== 'metadata-only' && strategy !== 'sharp-defaults' && !strategy.startsWith('processes')) {
    await decodeImage(paths[0]!, s); // loads sharp with our settings, which the variants then change
    if (strategy === 'in-process-cache-on') sharp.cache(true);
    if (strategy === 'in-process-vips2') sharp.concurrency(2);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let childCpu = 0;
  switch (strategy) {
    case 'metadata-only':
      await inFlight(paths, 8, (p) => sharp(p).metadata());
      break;
    case 'sharp-defaults':
      await inFlight(paths, 8, (p) => sharp(p).resize(s.width, s.height, { fit: s.fit }).raw().toBuffer());
      break;
    case 'in-process-from-bytes':
      // The bytes without their path: decodeImageBytes cannot hand the file to libjpeg's scaled decode.
      await inFlight(paths, 4, async (p) => decodeImageBytes(p, await readImageFile(p), s));
      break;
    case 'in-process':
    case 'in-process-lanczos3':
    case 'in-process-cache-on':
    case 'in-process-vips2':
    case 'in-process-uv1':
    case 'in-process-uv2':
      await inFlight(paths, 4, (p) => decodeImage(p, s));
      break;
    case 'worker-threads-2':
      await decodeInWorkers(paths, s, 2);
      break;
    case 'processes-2':
    case 'processes-2-lanczos3':
    case 'processes-3': {
      const d = bytesPerImage(s);
      let pids: number[] = [];
      let bytes = 0;
      for await (const out of decodeImages(paths, s, { processes: strategy === 'processes-3' ? 3 : 2, onPool: (p) => (pids = p) })) {
        bytes += out.pixels?.length ?? d;
        if (out.index === paths.length - 1) childCpu = pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
      }
      if (bytes !== paths.length * d) throw new Error('lost images');
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { images: paths.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 + childCpu };
}

// ---- the parent: runs the passes in fresh processes and reports medians ----

/** Runs one pass of this script in a fresh Node process; resolves with the JSON of its last stdout line. */
function runChild<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench child ${args.join(' ')} exited with ${code}`));
      const last = out.trim().split('\n').at(-1) ?? '';
      resolve(JSON.parse(last) as T);
    });
  });
}

function passArgs(o: Options): string[] {
  const { width, height, channels, fit } = o.settings;
  return [
    '--data', o.data,
    '--width', String(width), '--height', String(height), '--channels', String(channels), '--fit', fit,
    '--resize', o.settings.resize ?? 'linear',
    '--processes', String(o.processes),
    ...(o.limit !== null ? ['--limit', String(o.limit)] : []),
  ];
}

// ---- Pillow, for --pillow: src/bench/pillow_reference.py on the same images ----

interface PillowRun {
  images: number;
  plain: { imagesPerSecond: number; cpuMsPerImage: number };
  draft: { imagesPerSecond: number; cpuMsPerImage: number };
}

/** The reference script, in the source tree next to this file's source (dist-bench/bench/ -> src/bench/). */
function pillowScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [join(here, 'pillow_reference.py'), join(here, '..', '..', 'src', 'bench', 'pillow_reference.py')].find((f) => existsSync(f));
  if (script === undefined) throw new UserError('--pillow: src/bench/pillow_reference.py not found (run the bench from the repository)');
  return script;
}

/** Writes the paths nn-train decodes (labeled files, the --limit sample) one per line, for the Pillow script. */
async function writeImageList(o: Options, file: string): Promise<number> {
  const found = await findImages(o.data);
  let files = found.files.filter((f) => f.label !== null);
  if (o.limit !== null) files = sampleFiles(files, o.limit);
  writeFileSync(file, files.map((f) => `${f.path}\n`).join(''));
  return files.length;
}

function runPillow(o: Options, script: string, listFile: string): Promise<PillowRun> {
  const { width, height } = o.settings;
  const args = [script, '--list', listFile, '--runs', '1', '--mode', 'both', '--width', String(width), '--height', String(height)];
  return new Promise((resolve, reject) => {
    const child = spawn(o.python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (e) => reject(new UserError(`--pillow: cannot run ${o.python}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new UserError(`--pillow: ${o.python} ${script} exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as PillowRun);
    });
  });
}

async function benchmark(o: Options): Promise<void> {
  const firsts: FirstPass[] = [];
  const caches: { images: number; seconds: number }[] = [];
  const pillows: PillowRun[] = [];
  const listDir = o.pillow ? mkdtempSync(join(tmpdir(), 'nn-train-bench-pillow-')) : null;
  const script = o.pillow ? pillowScript() : '';
  const listFile = listDir !== null ? join(listDir, 'images.txt') : '';
  try {
    if (listDir !== null) await writeImageList(o, listFile);
    for (let r = 0; r < o.runs; r++) {
      const cacheDir = mkdtempSync(join(tmpdir(), 'nn-train-bench-data-'));
      try {
        const first = await runChild<FirstPass>([...passArgs(o), '--pass', 'first', '--cache-dir', cacheDir]);
        const cache = await runChild<{ images: number; seconds: number }>([...passArgs(o), '--pass', 'cache', '--cache-dir', cacheDir]);
        firsts.push(first);
        caches.push(cache);
        process.stderr.write(
          `run ${r + 1}/${o.runs}: first pass ${first.seconds.toFixed(2)} s (${Math.round(first.images / first.seconds)} images/s; ` +
            `find ${first.findSeconds.toFixed(2)} s, decode ${first.decodeSeconds.toFixed(2)} s = ${Math.round(first.images / first.decodeSeconds)} images/s ` +
            `with ${first.processes || 'no'} decoder processes, ${((1000 * first.cpuSeconds) / first.images).toFixed(2)} CPU ms/image ` +
            `(${((1000 * first.decoderCpuSeconds) / first.images).toFixed(2)} in the decoders), ` +
            `cache write ${first.writeSeconds.toFixed(2)} s), peak memory ${mb(first.peakPssBytes)} ` +
            `(peak RSS: this process ${mb(first.peakRssBytes[0]!)}, decoders ${first.peakRssBytes.slice(1).map(mb).join(' + ') || 'none'}); ` +
            `from cache ${cache.seconds.toFixed(3)} s\n`,
        );
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
      if (o.pillow) {
        const p = await runPillow(o, script, listFile);
        pillows.push(p);
        process.stderr.write(
          `run ${r + 1}/${o.runs}: Pillow plain ${p.plain.imagesPerSecond} images/s (${p.plain.cpuMsPerImage.toFixed(2)} CPU ms/image), ` +
            `with draft() ${p.draft.imagesPerSecond} images/s (${p.draft.cpuMsPerImage.toFixed(2)} CPU ms/image)\n`,
        );
      }
    }
  } finally {
    if (listDir !== null) rmSync(listDir, { recursive: true, force: true });
  }
  const images = firsts[0]!.images;
  const datasetBytes = images * bytesPerImage(o.settings);
  const firstPassImagesPerSecond = median(firsts.map((f) => f.images / f.seconds));
  const decodeImagesPerSecond = median(firsts.map((f) => f.images / f.decodeSeconds));
  const cpuMsPerImage = median(firsts.map((f) => (1000 * f.cpuSeconds) / f.images));
  const cacheLoadSeconds = median(caches.map((c) => c.seconds));
  const peakRssBytes = median(firsts.map((f) => f.peakPssBytes));
  const sumOfPeakRss = median(firsts.map((f) => f.peakRssBytes.reduce((a, b) => a + b, 0)));
  const { width, height, channels, fit } = o.settings;
  process.stderr.write(
    `\n${images} images of ${o.data} -> ${width}x${height}x${channels} (${fit}, resize ${o.settings.resize ?? 'linear'}), medians of ${o.runs} runs:\n` +
      `  first pass, decode + resize:                     ${Math.round(decodeImagesPerSecond)} images/s, ${cpuMsPerImage.toFixed(2)} CPU ms/image ` +
      `(whole first pass with listing and cache write: ${Math.round(firstPassImagesPerSecond)} images/s)\n` +
      `  second pass (from the cache):                    ${cacheLoadSeconds.toFixed(3)} s\n` +
      `  peak resident memory during the first pass:      ${mb(peakRssBytes)} = dataset ${mb(datasetBytes)} + ${mb(peakRssBytes - datasetBytes)} ` +
      `(summed Pss of this process and the decoders; their peak RSS added up: ${mb(sumOfPeakRss)})\n`,
  );
  let pillow: { plain: number; draft: number } | null = null;
  if (pillows.length > 0) {
    pillow = { plain: median(pillows.map((p) => p.plain.imagesPerSecond)), draft: median(pillows.map((p) => p.draft.imagesPerSecond)) };
    const plainCpu = median(pillows.map((p) => p.plain.cpuMsPerImage));
    const draftCpu = median(pillows.map((p) => p.draft.cpuMsPerImage));
    const ratio = (x: number): string => (decodeImagesPerSecond / x).toFixed(2);
    process.stderr.write(
      `  Pillow, one process, Image.open().convert('RGB').resize(BILINEAR):  ${Math.round(pillow.plain)} images/s, ${plainCpu.toFixed(2)} CPU ms/image ` +
        `-> nn-train / Pillow = ${ratio(pillow.plain)}\n` +
        `  Pillow, the same with img.draft('RGB', size) first:              ${Math.round(pillow.draft)} images/s, ${draftCpu.toFixed(2)} CPU ms/image ` +
        `-> nn-train / Pillow draft = ${ratio(pillow.draft)}\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      images,
      decodeImagesPerSecond: Math.round(decodeImagesPerSecond),
      cpuMsPerImage: Number(cpuMsPerImage.toFixed(3)),
      cacheLoadSeconds: Number(cacheLoadSeconds.toFixed(3)),
      peakRssBytes: Math.round(peakRssBytes),
      ...(pillow !== null ? { pillow: { plain: Math.round(pillow.plain), draft: Math.round(pillow.draft) } } : {}),
    })}\n`,
  );
}

async function compare(o: Options): Promise<void> {
  const rates = new Map<Strategy, number[]>(STRATEGIES.map((s) => [s, []]));
  const cpuPerImage = new Map<Strategy, number[]>(STRATEGIES.map((s) => [s, []]));
  let images = 0;
  for (let r = 0; r < o.runs; r++) {
    for (const strategy of STRATEGIES) {
      const env: NodeJS.ProcessEnv =
        strategy === 'in-process-uv1' ? { UV_THREADPOOL_SIZE: '1' } : strategy === 'in-process-uv2' ? { UV_THREADPOOL_SIZE: '2' } : {};
      const res = await runChild<{ images: number; seconds: number; cpuSeconds: number }>([...passArgs(o), '--pass', 'strategy', '--strategy', strategy], env);
      images = res.images;
      rates.get(strategy)!.push(res.images / res.seconds);
      cpuPerImage.get(strategy)!.push((1000 * res.cpuSeconds) / res.images);
      process.stderr.write(
        `round ${r + 1}/${o.runs} ${strategy}: ${Math.round(res.images / res.seconds)} images/s, ${((1000 * res.cpuSeconds) / res.images).toFixed(2)} CPU ms/image\n`,
      );
    }
  }
  const { width, height, channels, fit } = o.settings;
  process.stderr.write(
    `\n${images} images -> ${width}x${height}x${channels} (${fit}), decode only, medians of ${o.runs} rounds:\n` +
      `  images/s  CPU ms/image (all threads and processes)\n`,
  );
  const result: Record<string, number> = {};
  for (const s of STRATEGIES) {
    const m = Math.round(median(rates.get(s)!));
    result[s] = m;
    const c = median(cpuPerImage.get(s)!).toFixed(2);
    process.stderr.write(`  ${String(m).padStart(8)}  ${c.padStart(12)}  ${s.padEnd(20)} ${STRATEGY_NOTES[s]}\n`);
  }
  process.stdout.write(`${JSON.stringify({ compare: result, images })}\n`);
}

// ---- --make-photos: larger photos from small ones ----

/**
 * Writes `limit` JPEGs into `out`, made from a stratified sample of the labeled images of `o.data`:
 * each resized (lanczos3) to a random size of 400-499 x 320-419 and saved at a random JPEG quality
 * of 75-92 (4:2:0), as cameras and downloads do; four in five in class folders (cat/, dog/), the
 * others with Kaggle names at the top. Seeded: the same folder gives the same photos.
 */
async function makePhotos(o: Options, out: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  const { Rng } = await import('../random/rng.ts');
  const { mkdirSync } = await import('node:fs');
  const found = await findImages(o.data);
  const files = sampleFiles(found.files.filter((f) => f.label !== null), o.limit ?? 2500);
  const rng = new Rng(450370);
  for (const folder of ['cat', 'dog']) mkdirSync(join(out, folder), { recursive: true });
  let written = 0;
  for (const [i, file] of files.entries()) {
    const name = file.label === 1 ? 'dog' : 'cat';
    const width = 400 + rng.int(100);
    const height = 320 + rng.int(100);
    const quality = 75 + rng.int(18);
    const target = i % 5 === 4 ? join(out, `${name}.${i}.jpg`) : join(out, name, `${name}_${i}.jpg`);
    await sharp(file.path).resize(width, height, { fit: 'fill' }).jpeg({ quality }).toFile(target);
    written++;
  }
  process.stderr.write(`${written} photos of about 450x370 written to ${out}\n`);
  process.stdout.write(`${JSON.stringify({ photos: written, folder: out })}\n`);
}

// ---- --kernels: how far apart the resizes are ----

/** Mean and largest absolute difference, in pixel levels (0..255), between each resize's bytes and lanczos3's. */
async function kernels(o: Options): Promise<void> {
  const found = await findImages(o.data);
  let files = found.files.filter((f) => f.label !== null);
  if (o.limit !== null) files = sampleFiles(files, o.limit);
  const decodeAll = async (resize: ResizeName): Promise<(Uint8Array | null)[]> => {
    const out: (Uint8Array | null)[] = [];
    for await (const r of decodeImages(files.map((f) => f.path), { ...o.settings, resize }, { processes: o.processes })) out.push(r.pixels?.slice() ?? null);
    return out;
  };
  const reference = await decodeAll('lanczos3');
  const result: Record<string, number> = {};
  process.stderr.write(`${files.length} images of ${o.data} -> ${o.settings.width}x${o.settings.height}x${o.settings.channels} (${o.settings.fit}), against lanczos3:\n`);
  for (const resize of RESIZE_NAMES.filter((r) => r !== 'lanczos3')) {
    const got = await decodeAll(resize);
    let sum = 0;
    let count = 0;
    let largest = 0;
    got.forEach((pixels, i) => {
      const ref = reference[i];
      if (!pixels || !ref) return;
      for (let k = 0; k < pixels.length; k++) {
        const d = Math.abs(pixels[k]! - ref[k]!);
        sum += d;
        largest = Math.max(largest, d);
      }
      count += pixels.length;
    });
    result[resize] = Number((sum / count).toFixed(3));
    process.stderr.write(`  ${resize.padEnd(9)} mean |difference| ${(sum / count).toFixed(2)} levels, largest ${largest}\n`);
  }
  process.stdout.write(`${JSON.stringify({ kernels: result, images: files.length })}\n`);
}

async function main(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        runs: { type: 'string' },
        limit: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        channels: { type: 'string' },
        fit: { type: 'string' },
        processes: { type: 'string' },
        resize: { type: 'string' },
        pillow: { type: 'boolean' },
        python: { type: 'string' },
        compare: { type: 'boolean' },
        kernels: { type: 'boolean' },
        'make-photos': { type: 'string' },
        pass: { type: 'string' },
        strategy: { type: 'string' },
        'cache-dir': { type: 'string' },
      },
      strict: true,
    });
    if (values.data === undefined) throw new UserError('--data DIR is required (a folder of images)');
    if (values.channels !== undefined && values.channels !== '1' && values.channels !== '3') {
      throw new UserError(`--channels: expected 1 or 3, found ${JSON.stringify(values.channels)}`);
    }
    if (values.fit !== undefined && !(FIT_NAMES as readonly string[]).includes(values.fit)) {
      throw new UserError(`--fit: expected one of ${FIT_NAMES.join(', ')}, found ${JSON.stringify(values.fit)}`);
    }
    if (values.resize !== undefined && !(RESIZE_NAMES as readonly string[]).includes(values.resize)) {
      throw new UserError(`--resize: expected one of ${RESIZE_NAMES.join(', ')}, found ${JSON.stringify(values.resize)}`);
    }
    const processes = values.processes === undefined || values.processes === 'auto' ? 'auto' : Number(values.processes);
    if (processes !== 'auto' && !(Number.isInteger(processes) && processes >= 0)) {
      throw new UserError(`--processes: expected auto or a whole number, found ${JSON.stringify(values.processes)}`);
    }
    const o: Options = {
      data: values.data,
      runs: positive('runs', values.runs, 3),
      limit: values.limit !== undefined ? positive('limit', values.limit, 0) : values.compare ? 3000 : values.kernels ? 1000 : null,
      settings: {
        width: positive('width', values.width, 64),
        height: positive('height', values.height, 64),
        channels: values.channels === '1' ? 1 : 3,
        fit: (values.fit ?? 'fill') as FitName,
        resize: (values.resize ?? 'linear') as ResizeName,
      },
      processes,
      pillow: values.pillow === true,
      python: values.python ?? '/usr/bin/python3',
    };
    if (values.pass === 'first') {
      process.stdout.write(`${JSON.stringify(await firstPass(o, values['cache-dir']!))}\n`);
    } else if (values.pass === 'cache') {
      process.stdout.write(`${JSON.stringify(await cachePass(o, values['cache-dir']!))}\n`);
    } else if (values.pass === 'strategy') {
      process.stdout.write(`${JSON.stringify(await strategyPass(o, values.strategy as Strategy))}\n`);
    } else if (values.compare) {
      await compare(o);
    } else if (values.kernels) {
      await kernels(o);
    } else if (values['make-photos'] !== undefined) {
      await makePhotos(o, values['make-photos']);
    } else {
      readdirSync(o.data); // a clear error before starting children
      process.stderr.write(`decoder processes: ${decoderProcessCount(1_000_000, { processes: o.processes }) || 'none (decoding in-process)'}\n`);
      await benchmark(o);
    }
    return EXIT.ok;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return reportError('bench:data', new UserError(`${(err as NodeJS.ErrnoException).path ?? ''}: no such folder`));
    }
    return reportError('bench:data', err);
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
