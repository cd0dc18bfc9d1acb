/**
 * nn-plot: draws two figures that explain what the optimizers do, as SVG, computed by the
 * project's own code.
 *
 *   nn-plot ewa    [--out FILE] [--seed N]                       exponentially weighted averages
 *   nn-plot ravine [--out FILE] [--lr X] [--beta X] [--steps N]  GD, momentum, Nesterov on a ravine
 *
 * Without --out (or with --out -) the SVG goes to stdout, so it can be piped; when stdout is a
 * terminal the SVG (thousands of characters of XML) is refused with a hint instead. Exit codes:
 * 0 done, 2 usage error or unwritable output (a one-line message naming the path), 1 anything
 * else. --steps is capped so that a typo cannot make a file of gigabytes.
 */
import { NN_TRAIN_VERSION } from '../version.ts';
import { Command, InvalidArgumentError } from 'commander';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
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
function emit(svg: () => string, out: string | undefined, figure: string): void {
  if (out === undefined || out === '-') {
    if (process.stdout.isTTY) {
      throw new UserError(`not writing SVG onto the terminal: give a file with --out (nn-plot ${figure} --out ${figure}.svg), or redirect stdout (nn-plot ${figure} > ${figure}.svg)`);
    }
    process.stdout.write(svg());
    return;
  }
  try {
    writeFileAtomic(out, svg());
  } catch (err) {
    throw new UserError(`${out}: cannot write the figure: ${describeFsError(err)}`);
  }
  process.stderr.write(`nn-plot: wrote ${out}\n`);
}

export async function main(argv: string[]): Promise<number> {
  return runCommand('nn-plot', async () => {
    // The figure to write, chosen by the subcommand's action.
    let job: { figure: string; svg: () => string; out: string | undefined } | undefined;

    const program = new Command('nn-plot')
      .description('Draw, as SVG, two figures that show what the optimizers do: how exponentially weighted averages smooth a noisy signal, and how gradient descent, momentum and Nesterov momentum move through a narrow valley.')
      .version(NN_TRAIN_VERSION, '-V, --version', 'print the version')
      .helpOption('-h, --help', 'print this help')
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          '  nn-plot ewa --out ewa.svg                 the averages, with and without bias correction',
          '  nn-plot ravine --out ravine.svg           the three optimizers on the valley',
          '  nn-plot ravine --lr 0.03 --out fast.svg   a larger learning rate: Nesterov diverges',
          '  nn-plot ewa --seed 7 > ewa.svg            other noise; stdout when it is not a terminal',
          '',
          'Open the SVG in a browser or an image viewer. Exit codes: 0 done, 2 usage error or unwritable file.',
        ].join('\n'),
      )
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
      .description(
        'A noisy cosine and its exponentially weighted averages for beta 0.5, 0.9 and 0.98: a larger beta is smoother but lags; without bias correction the averages start near 0, with it they are right from the first sample.',
      )
      .option('--out <file>', 'write the SVG to this file (default: stdout, when it is not a terminal)')
      .option('--seed <n>', 'seed of the noise', integerOption(0), 1)
      .action((opts: { out?: string; seed: number }) => {
        job = { figure: 'ewa', svg: () => ewaFigureSvg(ewaFigure(opts.seed)), out: opts.out };
      });

    program
      .command('ravine')
      .description(
        'The paths of gradient descent, momentum and Nesterov momentum on f(x, y) = 0.5 (x^2 + 50 y^2), a valley 50 times steeper across than along: in the same steps, gradient descent crawls along the floor while both momentum methods end near the minimum.',
      )
      .option('--out <file>', 'write the SVG to this file (default: stdout, when it is not a terminal)')
      .option('--lr <x>', 'learning rate of all three methods', numberOption(0, Infinity), RAVINE_DEFAULTS.lr)
      .option('--beta <x>', 'momentum coefficient of momentum and Nesterov', numberOption(0, 1), RAVINE_DEFAULTS.beta)
      .option('--steps <n>', 'number of steps', integerOption(1, MAX_STEPS), RAVINE_DEFAULTS.steps)
      .action((opts: { out?: string; lr: number; beta: number; steps: number }) => {
        job = { figure: 'ravine', svg: () => ravineFigureSvg(ravineFigure({ lr: opts.lr, beta: opts.beta, steps: opts.steps })), out: opts.out };
      });

    // --help, a usage error or no command at all end here as a CommanderError, which runCommand
    // turns into exit 0 (help) or 2 (usage); commander has already printed the message.
    await program.parseAsync(argv, { from: 'user' });
    if (!job) return EXIT.usage;
    emit(job.svg, job.out, job.figure);
    return EXIT.ok;
  });
}
