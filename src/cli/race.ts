/**
 * The optimizer race: `nn-train --config a.json --config b.json ...` trains each config in turn on
 * the same data, split and seed (taken from the first config), then writes compare.svg in one
 * comparison folder and a table on stdout (TSV, or JSON lines with --json).
 */
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EXIT } from '../errors.ts';
import { writeFileAtomic } from '../io/files.ts';
import { compareChartSvg, type RaceRun } from '../report/compare-chart.ts';
import { train } from '../train/loop.ts';
import { defaultRunDir, RunFolder } from '../train/run-folder.ts';
import { configName, engineFactory, exitCodeOf, interruptFlag, makeReporter, methodFactory } from './nn-train.ts';
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
      const name = entries[i]!.name;
      const folder = RunFolder.create(config.out!);
      folder.writeConfig(config);
      const result = await train({
        config,
        name,
        folder,
        onEvent: reporter.handle,
        shouldStop: interrupt.stop,
        createEngine: engineFactory(args.kernel),
        createMethod: methodFactory(),
      }).catch((err: unknown) => {
        folder.discardIfUnused();
        if (rows.length === 0) raceFolder.discardIfUnused(); // the first run failed: no race to keep
        throw err;
      });
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
  process.stdout.write(args.json ? rows.map((r) => JSON.stringify({ event: 'race', ...r })).join('\n') + '\n' : raceTable(rows));
  if (!args.quiet) process.stderr.write(`comparison: ${join(dir, 'compare.svg')}\n`);
  return exit;
}

export function raceTable(rows: readonly RaceRow[]): string {
  const cell = (v: unknown, column: string) =>
    v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(column === 'seconds' ? 1 : 4) : String(v);
  return [RACE_COLUMNS.join('\t'), ...rows.map((r) => RACE_COLUMNS.map((k) => cell(r[k], k)).join('\t'))].join('\n') + '\n';
}
