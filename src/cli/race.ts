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

export async function race(args: TrainArgs): Promise<number> {
  // Load and validate every config before any work.
  const configs = args.configs.map((file) => ({ file, name: configName(file), config: loadConfigFile(file, args.overrides) }));
  const first = configs[0]!.config;
  const reporter = makeReporter(args);
  for (const c of configs.slice(1)) {
    if (JSON.stringify(c.config.data) !== JSON.stringify(first.data) || c.config.training.seed !== first.training.seed) {
      reporter.handle({ event: 'warning', message: `${c.file}: racing on the data and seed of ${configs[0]!.file}` });
    }
  }
  const dir = first.out && args.overrides.some((o) => o.path === 'out') ? first.out : defaultRunDir('race');
  const names = new Map<string, number>();
  const rows: RaceRow[] = [];
  const runs: RaceRun[] = [];
  const interrupt = interruptFlag(() => reporter.handle({ event: 'warning', message: 'stopping after this batch (Ctrl-C again to quit at once)' }));
  let exit: number = EXIT.ok;
  try {
    RunFolder.create(dir);
    for (const c of configs) {
      const seen = names.get(c.name) ?? 0;
      names.set(c.name, seen + 1);
      const name = seen ? `${c.name}-${seen + 1}` : c.name;
      const config: Config = { ...c.config, data: first.data, training: { ...c.config.training, seed: first.training.seed }, out: join(dir, name) };
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
      if (result.status === 'diverged') exit = EXIT.diverged; // the race goes on; the exit code says one diverged
    }
  } finally {
    interrupt.dispose();
    reporter.close();
  }
  writeFileAtomic(join(dir, 'race.tsv'), raceTable(rows));
  process.stdout.write(args.json ? rows.map((r) => JSON.stringify({ event: 'race', ...r })).join('\n') + '\n' : raceTable(rows));
  if (!args.quiet) process.stderr.write(`comparison: ${join(dir, 'compare.svg')}\n`);
  return exit;
}

export function raceTable(rows: readonly RaceRow[]): string {
  const cell = (v: unknown, column: string) =>
    v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(column === 'seconds' ? 1 : 4) : String(v);
  return [RACE_COLUMNS.join('\t'), ...rows.map((r) => RACE_COLUMNS.map((k) => cell(r[k], k)).join('\t'))].join('\n') + '\n';
}
