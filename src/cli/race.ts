/**
 * The optimizer race on the command line: `nn-train --config a.json --config b.json ...` trains
 * each config in turn (src/train/race.ts: the same data, split and seed, one comparison folder),
 * then prints a table on stdout (aligned columns on a terminal, TSV otherwise, or JSON lines with
 * --json), with the winner on stderr.
 */
import { loadConfigFile } from '../config/load.ts';
import { EXIT } from '../errors.ts';
import { createRaceFolder, planRace, raceConfigs, raceTable, raceWinner, runRace, type RaceResult } from '../train/race.ts';
import { RunPosition } from './train-summary.ts';
import { configName, engineFactory, interruptFlag, makeReporter, methodFactory } from './train-run.ts';
import type { TrainArgs } from './train-options.ts';

export async function race(args: TrainArgs): Promise<number> {
  // Load and validate every config before any work.
  const configs = args.configs.map((file) => ({ file, name: configName(file), config: loadConfigFile(file, args.overrides) }));
  const first = configs[0]!.config;
  const plan = planRace(configs, first.out && args.overrides.some((o) => o.path === 'out') ? first.out : null);
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(raceConfigs(plan), null, 2) + '\n');
    return EXIT.ok;
  }
  const raceFolder = createRaceFolder(plan);
  const reporter = makeReporter(args);
  for (const message of plan.warnings) reporter.handle({ event: 'warning', message });
  const interrupt = interruptFlag(reporter);
  /** Where each run stands, for the line that says where an interrupted one can resume. */
  const positions = new Map<string, RunPosition>();
  let result: RaceResult;
  try {
    result = await runRace(plan, raceFolder, {
      onEvent: (e, run) => {
        if (!positions.has(run)) positions.set(run, new RunPosition());
        positions.get(run)!.track(e);
        if (e.event === 'start') interrupt.trainingStarted();
        reporter.handle(e);
      },
      shouldStop: interrupt.stop,
      signal: interrupt.signal,
      createEngine: engineFactory(args.kernel),
      createMethod: methodFactory(),
    });
    const stopped = result.stopped;
    if (stopped?.when === 'training') {
      const where = positions.get(stopped.name)?.describe() ?? null;
      if (where !== null && !args.quiet) {
        process.stderr.write(`${stopped.name} interrupted ${where}; its checkpoint is ${stopped.folder.checkpointPath} (nn-train --resume ${stopped.folder.dir} continues that run alone)\n`);
      }
    }
  } finally {
    interrupt.dispose();
    reporter.close();
  }
  const stoppedRun = result.stopped !== null && result.stopped.when !== 'between-runs';
  const exit = stoppedRun ? EXIT.interrupted : result.diverged ? EXIT.diverged : EXIT.ok;
  const rows = result.rows;
  if (rows.length === 0) return exit;
  // A person at a terminal gets aligned columns; a pipe or a file gets the TSV (as in race.tsv).
  const table = process.stdout.isTTY ? raceTable(rows, { aligned: true }) : raceTable(rows);
  process.stdout.write(args.json ? rows.map((r) => JSON.stringify({ event: 'race', ...r })).join('\n') + '\n' : table);
  if (!args.quiet) {
    const verdict = raceWinner(rows);
    if (verdict !== null) process.stderr.write(verdict + '\n');
    if (result.chart !== null) process.stderr.write(`comparison: ${result.chart}\n`);
  }
  return exit;
}
