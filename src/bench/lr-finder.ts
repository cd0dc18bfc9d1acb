/**
 * Does the learning-rate finder's suggestion train? For each config: `nn-train --find-lr` gives a
 * rate; `nn-train --lr <that rate>` then trains the config for --epochs; the table says how the
 * loss went.
 *
 *   npm run build && node dist-bench/bench/lr-finder.js --data DIR [--epochs N] [--out DIR] CONFIG...
 *
 * A run counts as diverged when a loss is not finite, or when its last epoch's training loss is
 * above its first epoch's (training made things worse), or when its best validation loss is no
 * better than a constant guess of 1/2 (ln 2 = 0.693 for BCE, 0.25 for MSE: it learned nothing).
 * Both commands run as a user would run them (bin/nn-train.js, in their own process); their run
 * folders go under --out (default a fresh folder in the temporary directory).
 *
 * Output: progress on stderr; on stdout one TSV line per config (name, suggested rate, first and
 * last epoch's training loss, best validation loss and accuracy, verdict), then one JSON line:
 *   {"bench":"lr-finder","epochs":N,"configs":[{"name","lr","trainLoss":[...],"bestValLoss",
 *    "bestValAccuracy","diverged"}]}
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reportError } from '../cli/common.ts';
import { loadConfigFile } from '../config/load.ts';
import { EXIT, UserError } from '../errors.ts';
import { positiveOption } from './common.ts';

interface EpochLine {
  trainLoss: number;
  valLoss: number | null;
  valAccuracy: number | null;
}

interface Checked {
  name: string;
  lr: number;
  trainLoss: number[];
  bestValLoss: number;
  bestValAccuracy: number;
  diverged: string | null;
}

const NN_TRAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'nn-train.js');

/**
 * Runs bin/nn-train.js with `args`: its stdout and whether the run diverged (exit 3, which
 * nn-train gives a run whose loss blew up); any other failure is a UserError quoting its stderr.
 */
function nnTrain(args: string[]): { stdout: string; diverged: boolean } {
  const r = spawnSync(process.execPath, [NN_TRAIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status === EXIT.diverged) return { stdout: r.stdout, diverged: true };
  if (r.status !== 0) throw new UserError(`nn-train ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return { stdout: r.stdout, diverged: false };
}

/** Why a run's epochs count as diverged, or null. `chance`: the loss of always answering 1/2. */
function divergence(epochs: readonly EpochLine[], chance: number): string | null {
  if (epochs.length === 0) return 'no epoch';
  const losses = epochs.flatMap((e) => [e.trainLoss, e.valLoss ?? 0]);
  if (!losses.every(Number.isFinite)) return 'a loss is not finite';
  if (epochs.at(-1)!.trainLoss > epochs[0]!.trainLoss) return 'the training loss rose';
  const best = Math.min(...epochs.map((e) => e.valLoss ?? Infinity));
  if (best >= chance) return `best validation loss ${best.toFixed(4)}, no better than a constant 1/2 (${chance.toFixed(4)})`;
  return null;
}

function check(config: string, data: string, epochs: number, out: string): Checked {
  const name = basename(config, '.json');
  process.stderr.write(`${name}: finding a learning rate\n`);
  const events = nnTrain(['--config', config, '--data', data, '--find-lr', '--json', '-q', '--out', join(out, `${name}-lr-find`)]).stdout;
  const found = events.trim().split('\n').map((l) => JSON.parse(l) as { event: string; suggestion: number }).find((e) => e.event === 'lr-find');
  if (found === undefined) throw new UserError(`nn-train --find-lr on ${config} printed no suggestion`);
  const lr = +found.suggestion.toPrecision(2); // as the finder prints it for people
  process.stderr.write(`${name}: training ${epochs} epochs at lr ${lr}\n`);
  const runDir = join(out, name);
  const run = nnTrain(['--config', config, '--data', data, '--lr', String(lr), '--epochs', String(epochs), '--out', runDir, '-q']);
  const metrics = join(runDir, 'metrics.jsonl');
  const text = existsSync(metrics) ? readFileSync(metrics, 'utf8').trim() : '';
  const lines = text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as EpochLine);
  const chance = loadConfigFile(config).loss === 'mse' ? 0.25 : Math.LN2;
  const valLosses = lines.map((l) => l.valLoss ?? Infinity);
  const best = valLosses.indexOf(Math.min(...valLosses));
  return {
    name,
    lr,
    trainLoss: lines.map((l) => l.trainLoss),
    bestValLoss: lines[best]?.valLoss ?? NaN,
    bestValAccuracy: lines[best]?.valAccuracy ?? NaN,
    diverged: run.diverged ? 'nn-train stopped it: the loss blew up' : divergence(lines, chance),
  };
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { data: { type: 'string' }, epochs: { type: 'string' }, out: { type: 'string' } } });
  if (values.data === undefined) throw new UserError('--data DIR is required (the training images)');
  if (positionals.length === 0) throw new UserError('name one or more configs');
  const epochs = positiveOption('epochs', values.epochs, 5);
  const out = values.out ?? mkdtempSync(join(tmpdir(), 'nn-train-lr-finder-'));
  const results: Checked[] = [];
  process.stdout.write('config\tlr\tfirstTrainLoss\tlastTrainLoss\tbestValLoss\tbestValAccuracy\tverdict\n');
  for (const config of positionals) {
    const r = check(config, values.data, epochs, out);
    results.push(r);
    const f = (x: number | undefined): string => (x === undefined ? '' : x.toFixed(4));
    process.stdout.write(`${r.name}\t${r.lr}\t${f(r.trainLoss[0])}\t${f(r.trainLoss.at(-1))}\t${f(r.bestValLoss)}\t${f(r.bestValAccuracy)}\t${r.diverged ?? 'trains'}\n`);
  }
  process.stdout.write(JSON.stringify({ bench: 'lr-finder', epochs, out, configs: results }) + '\n');
  return results.some((r) => r.diverged !== null) ? EXIT.failure : EXIT.ok;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.exitCode = reportError('lr-finder', err);
}
