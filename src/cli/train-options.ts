/**
 * nn-train's command line, declared as data: each override names the config field it sets, and
 * its help text and default come from the zod schema (src/config/describe.ts), so `--help` and
 * the config cannot disagree.
 */
import { Command, Option } from 'commander';
import { configRow } from '../config/describe.ts';
import type { Override } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { numberOrString, parseOrHelp } from './common.ts';

export interface OverrideFlag {
  /** commander flag syntax */
  flags: string;
  /** config field it sets */
  path: string;
  parse: (value: string) => unknown;
}

export const OVERRIDE_FLAGS: readonly OverrideFlag[] = [
  { flags: '--data <dir>', path: 'data.train', parse: (v) => v },
  { flags: '--out <dir>', path: 'out', parse: (v) => v },
  { flags: '--epochs <n>', path: 'training.epochs', parse: numberOrString },
  { flags: '--batch-size <n>', path: 'training.batchSize', parse: (v) => (v === 'full' ? v : numberOrString(v)) },
  { flags: '--lr <x>', path: 'optimizer.lr', parse: numberOrString },
  { flags: '--seed <n>', path: 'training.seed', parse: numberOrString },
  { flags: '--workers <n>', path: 'training.workers', parse: numberOrString },
  { flags: '--limit <n>', path: 'data.limit', parse: numberOrString },
];

export const KERNELS = ['auto', 'relaxed-simd', 'simd', 'js'] as const;
export type KernelChoice = (typeof KERNELS)[number];

export interface TrainArgs {
  configs: string[];
  overrides: Override[];
  resume: string | null;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  printConfig: boolean;
  findLr: boolean;
  color: boolean | undefined;
  kernel: KernelChoice;
}

export type ParsedTrainCli = { kind: 'help'; text: string } | { kind: 'run'; args: TrainArgs };

function flagName(flags: string): string {
  return flags.split(' ')[0]!;
}

function buildProgram(): Command {
  const program = new Command('nn-train')
    .description('Train a fully connected network to tell cats (0) from dogs (1).')
    .option('-c, --config <file>', 'training config (JSON); give several to race them on the same data', (v: string, prev: string[]) => [...prev, v], [] as string[]);
  for (const o of OVERRIDE_FLAGS) {
    const row = configRow(o.path);
    program.addOption(new Option(o.flags, `${row.description} [${o.path}; config default: ${row.default || 'none'}]`));
  }
  program
    .option('--resume <dir>', 'continue the run in this folder from its last.json')
    .option('--json', 'JSON lines on stdout, one per event (start, dataset, epoch, done)', false)
    .option('-q, --quiet', 'print only errors', false)
    .option('-v, --verbose', 'print more (the pixel cache file; learning rate and kernels in each epoch line)', false)
    .option('--print-config', 'print the resolved config and exit', false)
    .option('--find-lr', 'run the learning-rate finder: a few hundred batches at growing rates; print the suggested rate, write lr-find.svg', false)
    .option('--color', 'force colour on stderr')
    .option('--no-color', 'no colour on stderr (also: NO_COLOR=1)')
    .addOption(new Option('--kernel <name>', 'gradient core kernels').choices(KERNELS).default('auto'))
    .addHelpText(
      'after',
      '\nExamples:\n  nn-train --config configs/quickstart.json\n  nn-train --config configs/momentum.json --epochs 20 --lr 0.005\n  nn-train --resume runs/momentum-20261126-120000 --epochs 30\n  nn-train --config configs/sgd.json --config configs/adam.json   (race)\n\nExit codes: 0 done, 1 runtime failure, 2 usage or config error, 3 diverged, 130 interrupted.',
    )
    .allowExcessArguments(false)
    .exitOverride()
    .version(process.env.npm_package_version ?? '0.1.0');
  return program;
}

/** Parses nn-train's arguments (argv without node and the script); pure, for tests. */
export function parseTrainCli(argv: readonly string[]): ParsedTrainCli {
  const program = buildProgram();
  const help = parseOrHelp(program, argv, 'nn-train');
  if (help !== null) return { kind: 'help', text: help };
  const opts = program.opts();
  const overrides: Override[] = [];
  for (const o of OVERRIDE_FLAGS) {
    const key = camel(flagName(o.flags));
    const raw = opts[key] as string | undefined;
    if (raw !== undefined) overrides.push({ path: o.path, value: o.parse(raw), flag: flagName(o.flags) });
  }
  const configs = opts.config as string[];
  const resume = (opts.resume as string | undefined) ?? null;
  if (configs.length === 0 && resume === null) {
    throw new UserError('give a config with --config FILE (try configs/quickstart.json), or --resume DIR (see nn-train --help)');
  }
  if (resume !== null && configs.length > 1) throw new UserError('--resume takes at most one --config');
  const colorSource = program.getOptionValueSource('color');
  return {
    kind: 'run',
    args: {
      configs,
      overrides,
      resume,
      json: opts.json as boolean,
      quiet: opts.quiet as boolean,
      verbose: opts.verbose as boolean,
      printConfig: opts.printConfig as boolean,
      findLr: opts.findLr as boolean,
      color: colorSource === 'cli' ? (opts.color as boolean) : undefined,
      kernel: opts.kernel as KernelChoice,
    },
  };
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
}
