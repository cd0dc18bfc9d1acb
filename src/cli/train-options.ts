/**
 * nn-train's command line, declared as data: each override names the config field it sets, and
 * its help text and default come from the zod schema (src/config/describe.ts), so `--help` and
 * the config cannot disagree. `--help` lists the options in groups (config, data, model and
 * training, output, display); `--help-config` prints the schema's field table.
 */
import { NN_TRAIN_VERSION } from '../version.ts';
import { Command, Option } from 'commander';
import { configReference, configRow } from '../config/describe.ts';
import type { Override } from '../config/load.ts';
import { KERNEL_CHOICES, type KernelChoice } from '../core/kernels.ts';
import { UserError } from '../errors.ts';
import { numberOrString, parseOrHelp } from './common.ts';

export interface OverrideFlag {
  /** commander flag syntax */
  flags: string;
  /** config field it sets */
  path: string;
  parse: (value: string) => unknown;
  /** Heading of --help it is listed under. */
  group: HelpGroup;
}

const GROUPS = {
  config: 'Config (one of --config or --resume is required):',
  data: 'Data:',
  training: 'Model and training:',
  output: 'Output:',
  display: 'Display:',
  other: 'Other:',
} as const;
type HelpGroup = keyof typeof GROUPS;

export const OVERRIDE_FLAGS: readonly OverrideFlag[] = [
  { flags: '--data <dir>', path: 'data.train', parse: (v) => v, group: 'data' },
  { flags: '--limit <n>', path: 'data.limit', parse: numberOrString, group: 'data' },
  { flags: '--epochs <n>', path: 'training.epochs', parse: numberOrString, group: 'training' },
  { flags: '--batch-size <n>', path: 'training.batchSize', parse: (v) => (v === 'full' ? v : numberOrString(v)), group: 'training' },
  { flags: '--lr <x>', path: 'optimizer.lr', parse: numberOrString, group: 'training' },
  { flags: '--seed <n>', path: 'training.seed', parse: numberOrString, group: 'training' },
  { flags: '--workers <n>', path: 'training.workers', parse: numberOrString, group: 'training' },
  { flags: '--device <name>', path: 'training.device', parse: (v) => v, group: 'training' },
  { flags: '--out <dir>', path: 'out', parse: (v) => v, group: 'output' },
];

export type { KernelChoice };

export interface TrainArgs {
  configs: string[];
  overrides: Override[];
  resume: string | null;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** false with --no-progress: plain lines instead of a redrawn bar. */
  progress: boolean;
  printConfig: boolean;
  /** --find-lr: run the learning-rate finder instead of training. */
  findLr: boolean;
  color: boolean | undefined;
  kernel: KernelChoice;
}

export type ParsedTrainCli = { kind: 'help'; text: string } | { kind: 'run'; args: TrainArgs };

function flagName(flags: string): string {
  return flags.split(' ')[0]!;
}

/**
 * A flag's help, from its config field's row of the schema: the description and the default said
 * the way the command line takes them. A field that may be null says what null means in its
 * description ("..., or null for one per core"); on the command line that is the default when the
 * flag is left out, not a value to type.
 */
export function flagHelp(path: string): string {
  const row = configRow(path);
  const nullable = /^(.*), or null(?: for (.*))?$/.exec(row.description);
  const description = nullable ? nullable[1]! : row.description;
  const fallback = row.default === 'null' ? (nullable?.[2] ?? 'none') : row.default;
  return `${description} [${path}${fallback ? `, default ${fallback}` : ''}]`;
}

const USAGE = [
  '--config FILE [options]',
  '       nn-train --resume DIR [--epochs N] [options]',
  '       nn-train --config A.json --config B.json ... [options]   (a race)',
].join('\n');

const EXAMPLES = [
  '',
  'Examples:',
  '  nn-train --config configs/quickstart.json               train on the demo pictures (npm run demo makes them)',
  '  nn-train --config configs/momentum.json --epochs 20 --lr 0.005',
  '  nn-train --config configs/adam.json --data ~/photos --limit 2000 --out runs/try',
  '  nn-train --resume runs/momentum-20261126-120000 --epochs 30',
  '  nn-train --config configs/cnn.json --find-lr             suggest a learning rate (writes lr-find.svg)',
  '  nn-train --config configs/sgd.json --config configs/adam.json   race two optimizers',
  "  nn-train --config configs/adam.json --json | jq -c 'select(.event == \"epoch\")'",
  '',
  'The config fields, their types and defaults: nn-train --help-config',
  'Exit codes: 0 done, 1 runtime failure, 2 usage or config error, 3 diverged,',
  '130 interrupted (Ctrl-C: the process ends by SIGINT once the checkpoint is written).',
].join('\n');

function buildProgram(): Command {
  const program = new Command('nn-train')
    .description('Train a network to tell cats (0) from dogs (1) in photos. The run folder it writes holds the model for nn-eval.')
    .usage(USAGE)
    .optionsGroup(GROUPS.config)
    .option('-c, --config <file>', 'training config (JSON); give several to race them on the same data', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--resume <dir>', 'continue the run in this folder from its last.json')
    .option('--print-config', 'print the resolved config (with the overrides below) and exit')
    .option('--help-config', 'print every config field with its type, default and meaning, and exit')
    .option('--find-lr', 'find a learning rate: a few hundred batches at growing rates; print the suggested rate, write lr-find.svg (no training run)');
  for (const group of ['data', 'training', 'output'] as const) {
    program.optionsGroup(GROUPS[group]);
    for (const o of OVERRIDE_FLAGS.filter((f) => f.group === group)) program.addOption(new Option(o.flags, flagHelp(o.path)));
    if (group === 'training') program.addOption(new Option('--kernel <name>', 'gradient core kernels').choices(KERNEL_CHOICES).default('auto'));
    if (group === 'output') program.option('--json', 'JSON lines on stdout, one per event (dataset, start, epoch, warning, done)');
  }
  program
    .optionsGroup(GROUPS.display)
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'print more (the pixel cache file; learning rate and kernels in each epoch line)')
    .option('--no-progress', 'plain lines instead of a progress bar (also when stderr is not a terminal, or TERM=dumb)')
    .option('--color', 'force colour on stderr')
    .option('--no-color', 'no colour on stderr (also: NO_COLOR=1)')
    .optionsGroup(GROUPS.other)
    .version(NN_TRAIN_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', EXAMPLES)
    // Arguments without a flag are refused below, with a hint (a config given without --config).
    .allowExcessArguments(true)
    .exitOverride();
  return program;
}

/** Parses nn-train's arguments (argv without node and the script); pure, for tests. */
export function parseTrainCli(argv: readonly string[]): ParsedTrainCli {
  const program = buildProgram();
  const help = parseOrHelp(program, argv, 'nn-train');
  if (help !== null) return { kind: 'help', text: help };
  const opts = program.opts();
  if (opts.helpConfig) return { kind: 'help', text: configReference(process.stdout.columns || 80) };
  const extra = program.args[0];
  if (extra !== undefined) {
    throw new UserError(
      /\.json$/i.test(extra)
        ? `${extra}: give the config with --config: nn-train --config ${extra}`
        : `${extra}: unexpected argument; a config is given with --config FILE, a run to continue with --resume DIR (see nn-train --help)`,
    );
  }
  const overrides: Override[] = [];
  for (const o of OVERRIDE_FLAGS) {
    const flag = flagName(o.flags);
    const raw = opts[camel(flag)] as string | undefined;
    if (raw === undefined) continue;
    if (raw === 'null' && configRow(o.path).default === 'null') {
      // The config's null is what leaving the flag out gives; typed, it would be a value ("null" as a folder name).
      const fallback = /, or null for (.*)$/.exec(configRow(o.path).description)?.[1];
      throw new UserError(
        `${flag} null: the command line takes no null; leave out ${flag}${fallback ? ` for the default (${fallback})` : ''}` +
          (o.path === 'out' ? ', or write ./null for a folder of that name' : ''),
      );
    }
    overrides.push({ path: o.path, value: o.parse(raw), flag });
  }
  const configs = (opts.config as string[] | undefined) ?? [];
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
      json: Boolean(opts.json),
      quiet: Boolean(opts.quiet),
      verbose: Boolean(opts.verbose),
      progress: opts.progress as boolean,
      printConfig: Boolean(opts.printConfig),
      findLr: Boolean(opts.findLr),
      color: colorSource === 'cli' ? (opts.color as boolean) : undefined,
      kernel: opts.kernel as KernelChoice,
    },
  };
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
}
