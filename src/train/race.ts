/**
 * The optimizer race: several configs trained in turn on the same data, split and seed (those of
 * the first config), each in its own subfolder of one comparison folder, which also gets
 * compare.svg (validation loss against epochs and against seconds, rewritten after each run) and
 * race.tsv (one row per finished run). The command line (src/cli/race.ts) loads the configs, shows
 * the events and prints the table and the winner.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { writeFileAtomic } from '../files.ts';
import { compareChartSvg, type RaceRun } from '../report/compare-chart.ts';
import type { TrainEvent } from './events.ts';
import { train, type TrainOptions } from './loop.ts';
import { defaultRunDir, RunFolder } from './run-folder.ts';

/** One config of the race: the file it came from, its name (the file's, numbered when repeated) and its content. */
export interface RaceEntry {
  file: string;
  name: string;
  config: Config;
}

export interface RacePlan {
  entries: RaceEntry[];
  /** The comparison folder asked for (--out), or null for a new runs/race-<time>. */
  explicitDir: string | null;
  /** One line per config that asked for other data or another seed than the first. */
  warnings: string[];
}

export interface RaceRow {
  name: string;
  optimizer: string;
  bestValLoss: number | null;
  bestValAccuracy: number | null;
  epochs: number;
  seconds: number;
  imagesPerSecond: number;
  status: string;
}

export const RACE_COLUMNS = ['name', 'optimizer', 'bestValLoss', 'bestValAccuracy', 'epochs', 'seconds', 'imagesPerSecond', 'status'] as const;

/** The race's own files in the comparison folder, besides one subfolder per run. */
const RACE_FILES = { chart: 'compare.svg', table: 'race.tsv' } as const;

/** Names the runs (a name met again gets -2, -3, ...) and notes the configs raced on another's data and seed. */
export function planRace(configs: readonly RaceEntry[], explicitDir: string | null): RacePlan {
  const first = configs[0]!.config;
  const names = new Map<string, number>();
  const entries = configs.map((c) => {
    const seen = names.get(c.name) ?? 0;
    names.set(c.name, seen + 1);
    return { ...c, name: seen ? `${c.name}-${seen + 1}` : c.name };
  });
  const warnings = configs
    .slice(1)
    .filter((c) => JSON.stringify(c.config.data) !== JSON.stringify(first.data) || c.config.training.seed !== first.training.seed)
    .map((c) => `${c.file}: racing on the data and seed of ${configs[0]!.file}`);
  return { entries, explicitDir, warnings };
}

/** Each config as it runs in the comparison folder `dir`: the data and seed of the first, its own subfolder. */
export function raceConfigs(plan: RacePlan, dir: string = plan.explicitDir ?? defaultRunDir('race')): Config[] {
  const first = plan.entries[0]!.config;
  return plan.entries.map((e) => ({ ...e.config, data: first.data, training: { ...e.config.training, seed: first.training.seed }, out: join(dir, e.name) }));
}

/**
 * Makes the comparison folder. Every folder is checked before the first run trains, so that a
 * refusal cannot come after a run has overwritten the comparison of an earlier race.
 */
export function createRaceFolder(plan: RacePlan): RunFolder {
  const dir = plan.explicitDir;
  if (dir === null) return RunFolder.createUnique(defaultRunDir('race'));
  RunFolder.assertFree(dir, Object.values(RACE_FILES));
  for (const e of plan.entries) RunFolder.assertFree(join(dir, e.name));
  return RunFolder.create(dir);
}

export interface RaceOptions extends Pick<TrainOptions, 'createEngine' | 'createMethod' | 'shouldStop' | 'signal'> {
  /** The events of the run named `run`, and the race's own warnings (a run that diverged). */
  onEvent: (e: TrainEvent, run: string) => void;
}

export interface RaceResult {
  /** One row per run that finished (also an interrupted or diverged one). */
  rows: RaceRow[];
  /** compare.svg, once a run finished; null before. */
  chart: string | null;
  /**
   * How a stop request (Ctrl-C, stdout gone) ended the race: between two runs, while a run loaded
   * its images (it trained nothing), or during a run (its checkpoint written). Null: it was not stopped.
   */
  stopped: { when: 'between-runs' } | { when: 'loading' } | { when: 'training'; name: string; folder: RunFolder } | null;
  /** A run diverged (the race went on). */
  diverged: boolean;
}

/**
 * Trains the configs of the plan in turn in `raceFolder`. A run that diverges is reported and the
 * race goes on; a stop request ends it after the current run's checkpoint. race.tsv is written
 * also when a run fails (an error is thrown): the table keeps the runs that finished.
 */
export async function runRace(plan: RacePlan, raceFolder: RunFolder, opts: RaceOptions): Promise<RaceResult> {
  const dir = raceFolder.dir;
  const rows: RaceRow[] = [];
  const runs: RaceRun[] = [];
  const result: RaceResult = { rows, chart: null, stopped: null, diverged: false };
  try {
    for (const [i, config] of raceConfigs(plan, dir).entries()) {
      if (opts.shouldStop?.()) {
        result.stopped = { when: 'between-runs' };
        break;
      }
      const name = plan.entries[i]!.name;
      const folder = RunFolder.create(config.out!);
      folder.writeConfig(config);
      const run = await train({
        config,
        name,
        folder,
        onEvent: (e) => opts.onEvent(e, name),
        ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        createEngine: opts.createEngine,
        ...(opts.createMethod ? { createMethod: opts.createMethod } : {}),
      }).catch((err: unknown) => {
        folder.discardIfUnused();
        if (rows.length === 0) raceFolder.discardIfUnused(); // the first run failed: no race to keep
        // Stopped while loading the images or starting the core: this run trained nothing.
        if (opts.signal?.aborted && err === opts.signal.reason) return null;
        throw err;
      });
      if (run === null) {
        result.stopped = { when: 'loading' };
        break;
      }
      const images = run.history.reduce((s, m) => s + m.imagesPerSecond * m.seconds, 0);
      const seconds = run.history.reduce((s, m) => s + m.seconds, 0);
      rows.push({
        name,
        optimizer: config.optimizer.type,
        bestValLoss: run.best?.valLoss ?? null,
        bestValAccuracy: run.best?.valAccuracy ?? null,
        epochs: run.history.length,
        seconds: +run.seconds.toFixed(2),
        imagesPerSecond: seconds > 0 ? Math.round(images / seconds) : 0,
        status: run.status,
      });
      let clock = 0;
      runs.push({
        name,
        points: run.history.map((m) => ({ epoch: m.epoch, seconds: (clock += m.seconds), valLoss: m.valLoss })),
      });
      writeFileAtomic(join(dir, RACE_FILES.chart), compareChartSvg(runs));
      result.chart = join(dir, RACE_FILES.chart);
      if (run.status === 'interrupted') {
        result.stopped = { when: 'training', name, folder };
        break;
      }
      if (run.status === 'diverged') {
        // The race goes on; the exit code says one diverged, and this line says why.
        opts.onEvent({ event: 'warning', message: `${name}: ${run.message ?? 'training diverged'}` }, name);
        result.diverged = true;
      }
    }
  } finally {
    if (rows.length > 0) writeFileAtomic(join(dir, RACE_FILES.table), raceTable(rows));
  }
  return result;
}

function cell(v: unknown, column: string): string {
  return v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(column === 'seconds' ? 1 : 4) : String(v);
}

/** The race's table: tab-separated values, or with `aligned` columns padded for reading (numbers to the right). */
export function raceTable(rows: readonly RaceRow[], options: { aligned?: boolean } = {}): string {
  const table = [[...RACE_COLUMNS], ...rows.map((r) => RACE_COLUMNS.map((k) => cell(r[k], k)))];
  if (!options.aligned) return table.map((line) => line.join('\t')).join('\n') + '\n';
  const widths = RACE_COLUMNS.map((_, c) => Math.max(...table.map((line) => line[c]!.length)));
  const numeric = RACE_COLUMNS.map((k) => rows.some((r) => typeof r[k] === 'number'));
  const pad = (text: string, c: number) => (numeric[c] ? text.padStart(widths[c]!) : text.padEnd(widths[c]!));
  return table.map((line) => line.map(pad).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * Who won, by the lowest best validation loss (the measure the runs keep their model by), and by
 * how much: "winner: adam, best validation loss 0.6316 (accuracy 64.2%), 0.0036 lower than rmsprop
 * (0.6352)". Null when fewer than two runs have a validation loss.
 */
export function raceWinner(rows: readonly RaceRow[]): string | null {
  const ranked = rows.filter((r) => r.bestValLoss !== null && Number.isFinite(r.bestValLoss)).sort((a, b) => a.bestValLoss! - b.bestValLoss!);
  if (ranked.length < 2) return null;
  const [first, second] = [ranked[0]!, ranked[1]!];
  const accuracy = first.bestValAccuracy !== null ? ` (accuracy ${(first.bestValAccuracy * 100).toFixed(1)}%)` : '';
  // The gap between the figures as printed, so that the line adds up for its reader.
  const [a, b] = [first.bestValLoss!.toFixed(4), second.bestValLoss!.toFixed(4)];
  const gap = (Number(b) - Number(a)).toFixed(4);
  if (gap === '0.0000') return `no clear winner: ${first.name} and ${second.name} reach the same best validation loss, ${a}`;
  return `winner: ${first.name}, best validation loss ${a}${accuracy}, ${gap} lower than ${second.name} (${b})`;
}
