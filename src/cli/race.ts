/**
 * The optimizer race: `nn-train --config a.json --config b.json ...` trains each config in turn on
 * the same data, split and seed (taken from the first config), then writes compare.svg in one
 * comparison folder and a table on stdout (aligned columns on a terminal, TSV otherwise, or JSON
 * lines with --json), with the winner on stderr.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EXIT } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { compareChartSvg, type RaceRun } from '../report/compare-chart.ts';
import { train } from '../train/loop.ts';
import { defaultRunDir, RunFolder } from '../train/run-folder.ts';
import { RunPosition } from './train-summary.ts';
import { configName, engineFactory, exitCodeOf, interruptFlag, makeReporter, methodFactory } from './train-run.ts';
import type { TrainArgs } from './train-options.ts';

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
const RACE_FILES = ['compare.svg', 'race.tsv'];

export async function race(args: TrainArgs): Promise<number> {
  // Load and validate every config before any work.
  const configs = args.configs.map((file) => ({ file, name: configName(file), config: loadConfigFile(file, args.overrides) }));
  const first = configs[0]!.config;
  const explicitDir = first.out && args.overrides.some((o) => o.path === 'out') ? first.out : null;
  const names = new Map<string, number>();
  const entries = configs.map((c) => {
    const seen = names.get(c.name) ?? 0;
    names.set(c.name, seen + 1);
    return { ...c, name: seen ? `${c.name}-${seen + 1}` : c.name };
  });
  // Each config as it runs: the data and seed of the first, its own subfolder.
  const planned = (dir: string): Config[] =>
    entries.map((e) => ({ ...e.config, data: first.data, training: { ...e.config.training, seed: first.training.seed }, out: join(dir, e.name) }));
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(planned(explicitDir ?? defaultRunDir('race')), null, 2) + '\n');
    return EXIT.ok;
  }
  // Every folder is checked before the first run trains, so that a refusal cannot come after a
  // run has overwritten the comparison of an earlier race.
  if (explicitDir !== null) {
    RunFolder.assertFree(explicitDir, RACE_FILES);
    for (const e of entries) RunFolder.assertFree(join(explicitDir, e.name));
  }
  const raceFolder = explicitDir !== null ? RunFolder.create(explicitDir) : RunFolder.createUnique(defaultRunDir('race'));
  const dir = raceFolder.dir;
  const reporter = makeReporter(args);
  for (const c of configs.slice(1)) {
    if (JSON.stringify(c.config.data) !== JSON.stringify(first.data) || c.config.training.seed !== first.training.seed) {
      reporter.handle({ event: 'warning', message: `${c.file}: racing on the data and seed of ${configs[0]!.file}` });
    }
  }
  const rows: RaceRow[] = [];
  const runs: RaceRun[] = [];
  const interrupt = interruptFlag(reporter);
  let exit: number = EXIT.ok;
  try {
    for (const [i, config] of planned(dir).entries()) {
      if (interrupt.stop()) break; // stopped (Ctrl-C) between two runs
      const name = entries[i]!.name;
      const folder = RunFolder.create(config.out!);
      folder.writeConfig(config);
      const position = new RunPosition();
      const result = await train({
        config,
        name,
        folder,
        onEvent: (e) => {
          position.track(e);
          if (e.event === 'start') interrupt.trainingStarted();
          reporter.handle(e);
        },
        shouldStop: interrupt.stop,
        signal: interrupt.signal,
        createEngine: engineFactory(args.kernel),
        createMethod: methodFactory(),
      }).catch((err: unknown) => {
        folder.discardIfUnused();
        if (rows.length === 0) raceFolder.discardIfUnused(); // the first run failed: no race to keep
        // Stopped while loading the images or starting the core: this run trained nothing.
        if (interrupt.signal.aborted && err === interrupt.signal.reason) return null;
        throw err;
      });
      if (result === null) {
        exit = EXIT.interrupted;
        break;
      }
      const images = result.history.reduce((s, m) => s + m.imagesPerSecond * m.seconds, 0);
      const seconds = result.history.reduce((s, m) => s + m.seconds, 0);
      rows.push({
        name,
        optimizer: config.optimizer.type,
        bestValLoss: result.best?.valLoss ?? null,
        bestValAccuracy: result.best?.valAccuracy ?? null,
        epochs: result.history.length,
        seconds: +result.seconds.toFixed(2),
        imagesPerSecond: seconds > 0 ? Math.round(images / seconds) : 0,
        status: result.status,
      });
      let clock = 0;
      runs.push({
        name,
        points: result.history.map((m) => ({ epoch: m.epoch, seconds: (clock += m.seconds), valLoss: m.valLoss })),
      });
      writeFileAtomic(join(dir, 'compare.svg'), compareChartSvg(runs));
      if (result.status === 'interrupted') {
        exit = exitCodeOf(result);
        const where = position.describe();
        if (where !== null && !args.quiet) {
          process.stderr.write(`${name} interrupted ${where}; its checkpoint is ${folder.checkpointPath} (nn-train --resume ${folder.dir} continues that run alone)\n`);
        }
        break;
      }
      if (result.status === 'diverged') {
        // The race goes on; the exit code says one diverged, and this line says why.
        reporter.handle({ event: 'warning', message: `${name}: ${result.message ?? 'training diverged'}` });
        exit = EXIT.diverged;
      }
    }
  } finally {
    interrupt.dispose();
    reporter.close();
    // Also when a run failed: the table keeps the runs that finished.
    if (rows.length > 0) writeFileAtomic(join(dir, 'race.tsv'), raceTable(rows));
  }
  if (rows.length === 0) return exit;
  // A person at a terminal gets aligned columns; a pipe or a file gets the TSV (as in race.tsv).
  const table = process.stdout.isTTY ? raceTable(rows, { aligned: true }) : raceTable(rows);
  process.stdout.write(args.json ? rows.map((r) => JSON.stringify({ event: 'race', ...r })).join('\n') + '\n' : table);
  if (!args.quiet) {
    const verdict = raceWinner(rows);
    if (verdict !== null) process.stderr.write(verdict + '\n');
    if (existsSync(join(dir, 'compare.svg'))) process.stderr.write(`comparison: ${join(dir, 'compare.svg')}\n`);
  }
  return exit;
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
