/**
 * nn-plot: draws the seed's figures as SVG, computed by the project's own code.
 *
 *   nn-plot ewa    [--out FILE] [--seed N]                       exponentially weighted averages
 *   nn-plot ravine [--out FILE] [--lr X] [--beta X] [--steps N]  GD, momentum, Nesterov on a ravine
 *
 * Without --out (or with --out -) the SVG goes to stdout, so it can be piped. Exit codes: 0 done,
 * 2 usage error or unwritable output (a one-line message naming the path), 1 anything else.
 * --steps is capped so that a typo cannot make a file of gigabytes.
 */
import { Command, InvalidArgumentError } from 'commander';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/files.ts';
import { ewaFigureSvg, ravineFigureSvg } from '../report/figure-charts.ts';
import { ewaFigure, RAVINE_DEFAULTS, ravineFigure } from '../report/figures.ts';
import { runCommand } from './common.ts';

/** Every step is a marker in the figure: 10000 steps already make a file of about 3 MB. */
const MAX_STEPS = 10000;

function integerOption(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!(text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max)) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function numberOption(min: number, maxExclusive: number) {
  return (text: string): number => {
    const x = Number(text);
    if (!(text.trim() !== '' && x >= min && x < maxExclusive)) {
      throw new InvalidArgumentError(`expected a number in [${min}, ${maxExclusive === Infinity ? 'infinity' : maxExclusive})`);
    }
    return x;
  };
}

/** Writes the SVG to the file (atomically: a failed write never leaves half a file) or to stdout. */
function emit(svg: string, out: string | undefined): void {
  if (out === undefined || out === '-') {
    process.stdout.write(svg);
    return;
  }
  try {
    writeFileAtomic(out, svg);
  } catch (err) {
    throw new UserError(`${out}: cannot write the figure: ${describeFsError(err)}`);
  }
  process.stderr.write(`nn-plot: wrote ${out}\n`);
}

export async function main(argv: string[]): Promise<number> {
  return runCommand('nn-plot', async () => {
    // The figure to write, chosen by the subcommand's action.
    let job: { svg: () => string; out: string | undefined } | undefined;

    const program = new Command('nn-plot')
      .description("Draw the seed's figures as SVG, computed by nn-train's own code.")
      // Commander must not end the process: main returns the exit code (bin/nn-plot.js sets it).
      // Subcommands inherit these settings.
      .exitOverride()
      .configureOutput({
        writeOut: (s) => process.stdout.write(s),
        writeErr: (s) => process.stderr.write(s),
        outputError: (s, write) => write(`nn-plot: ${s}`),
      });

    program
      .command('ewa')
      .description('a noisy cosine and its exponentially weighted averages (beta 0.5, 0.9, 0.98), without and with bias correction')
      .option('--out <file>', 'write the SVG to this file (default: stdout)')
      .option('--seed <n>', 'seed of the noise', integerOption(0), 1)
      .action((opts: { out?: string; seed: number }) => {
        job = { svg: () => ewaFigureSvg(ewaFigure(opts.seed)), out: opts.out };
      });

    program
      .command('ravine')
      .description('paths of gradient descent, momentum and Nesterov on f(x, y) = 0.5 (x^2 + 50 y^2)')
      .option('--out <file>', 'write the SVG to this file (default: stdout)')
      .option('--lr <x>', 'learning rate of all three methods', numberOption(0, Infinity), RAVINE_DEFAULTS.lr)
      .option('--beta <x>', 'momentum coefficient of momentum and Nesterov', numberOption(0, 1), RAVINE_DEFAULTS.beta)
      .option('--steps <n>', 'number of steps', integerOption(1, MAX_STEPS), RAVINE_DEFAULTS.steps)
      .action((opts: { out?: string; lr: number; beta: number; steps: number }) => {
        job = { svg: () => ravineFigureSvg(ravineFigure({ lr: opts.lr, beta: opts.beta, steps: opts.steps })), out: opts.out };
      });

    // --help, a usage error or no command at all end here as a CommanderError, which runCommand
    // turns into exit 0 (help) or 2 (usage); commander has already printed the message.
    await program.parseAsync(argv, { from: 'user' });
    if (!job) return EXIT.usage;
    emit(job.svg(), job.out);
    return EXIT.ok;
  });
}
