/**
 * `nn-train --config X --find-lr`: the learning-rate finder (src/train/lr-find.ts) from the command
 * line. It writes lr-find.svg into --out (default runs/<config name>-lr-find-<timestamp>) and
 * nothing else, prints the suggested rate on stdout (a bare number, or a JSON line with --json) so
 * that a script can use it, and explains it on stderr.
 */
import { join } from 'node:path';
import { EXIT, UserError, describeFsError } from '../errors.ts';
import { makeFolder, writeFileAtomic } from '../files.ts';
import { lrFindSvg } from '../report/lr-find-chart.ts';
import { findLearningRate } from '../train/lr-find.ts';
import { defaultRunDir } from '../train/run-folder.ts';
import type { Config } from '../config/schema.ts';
import { checkNetworkFits, engineFactory, interruptFlag, makeReporter } from './train-run.ts';
import type { TrainArgs } from './train-options.ts';

/** `run`: the config resolved from the command line (nn-train.ts resolveRun) and its name. */
export async function findLr(args: TrainArgs, run: { config: Config; name: string }): Promise<number> {
  await checkNetworkFits(run.config);
  const reporter = makeReporter(args);
  const interrupt = interruptFlag(reporter);
  try {
    const dir = run.config.out ?? defaultRunDir(`${run.name}-lr-find`);
    const result = await findLearningRate({
      config: run.config,
      name: run.name,
      outDir: dir,
      onEvent: (e) => {
        if (e.event === 'start') interrupt.trainingStarted();
        reporter.handle(e);
      },
      shouldStop: interrupt.stop,
      signal: interrupt.signal,
      createEngine: engineFactory(args.kernel),
    });
    reporter.close();
    try {
      makeFolder(dir);
    } catch (err) {
      throw new UserError(`${dir}: cannot create the folder for lr-find.svg: ${describeFsError(err)}`);
    }
    const figure = join(dir, 'lr-find.svg');
    writeFileAtomic(figure, lrFindSvg(result, `Learning-rate finder: ${run.name}`));
    const s = result.suggestion;
    const why = { steps: `${result.lrs.length} batches`, diverged: `${result.lrs.length} batches, until the loss blew up`, stopped: `${result.lrs.length} batches before the stop` }[result.ended];
    if (s === null) {
      process.stderr.write(`nn-train: the learning-rate finder trained only ${why}: too few to suggest a rate; see ${figure}\n`);
      return EXIT.failure;
    }
    if (args.json) process.stdout.write(JSON.stringify({ event: 'lr-find', suggestion: s.lr, halfway: s.halfway, minimum: s.minimum, batches: result.lrs.length, ended: result.ended, figure }) + '\n');
    else process.stdout.write(`${+s.lr.toPrecision(2)}\n`);
    if (!args.quiet) {
      process.stderr.write(
        `suggested learning rate ${+s.lr.toPrecision(2)}: the smaller of the rate halfway down the loss's fall (${+s.halfway.toPrecision(2)}) and a tenth of the rate at the lowest loss (${+s.minimum.toPrecision(2)} / 10), over ${why}\n` +
          `figure: ${figure}\nuse it: nn-train --config ${args.configs[0]} --lr ${+s.lr.toPrecision(2)}\n`,
      );
    }
    return result.ended === 'stopped' ? EXIT.interrupted : EXIT.ok;
  } finally {
    interrupt.dispose();
    reporter.close();
  }
}
