/**
 * The run folder (`--out`, default runs/<config name>-<timestamp>):
 *   config.json    the resolved config
 *   model.json     the best epoch's model (by validation loss)
 *   last.json      the latest checkpoint (see checkpoint.ts)
 *   metrics.jsonl  one line per epoch
 *   loss.svg       train/validation loss and validation accuracy per epoch
 * Every file is written atomically (temp file, fsync, rename), so a crash or kill -9 at any
 * moment leaves the previous version whole and loadable.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { describeFsError, UserError } from '../errors.ts';
import { makeFolder, readTextFile, removeStaleTempFiles, writeFileAtomic } from '../files.ts';
import { ModelFormatError, type Model, writeModelFile } from '../io/model-file.ts';
import { lossChartSvg } from '../report/loss-chart.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type EpochMetrics } from '../io/checkpoint.ts';

export const RUN_FILES = { config: 'config.json', model: 'model.json', checkpoint: 'last.json', metrics: 'metrics.jsonl', chart: 'loss.svg' } as const;

/** "runs/<name>-YYYYMMDD-HHMMSS" in local time. */
export function defaultRunDir(name: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join('runs', `${name}-${stamp}`);
}

export class RunFolder {
  private constructor(
    readonly dir: string,
    /** This process made the folder (it did not exist before). */
    private readonly made = false,
  ) {}

  /** writeConfig wrote config.json where there was none (so discardIfUnused may remove it). */
  private wroteNewConfig = false;

  get modelPath(): string {
    return join(this.dir, RUN_FILES.model);
  }

  get checkpointPath(): string {
    return join(this.dir, RUN_FILES.checkpoint);
  }

  /**
   * Makes a new run folder (and its parents); refuses a folder where the run would overwrite
   * something (see assertFree), so nothing already written is lost.
   */
  static create(dir: string): RunFolder {
    RunFolder.assertFree(dir);
    const existed = existsSync(dir);
    try {
      makeFolder(dir);
    } catch (err) {
      throw new UserError(`${dir}: cannot create the run folder: ${describeFsError(err)}`);
    }
    if (!isFolder(dir)) throw new UserError(`${dir}: cannot create the run folder: the name is taken by a file or a broken link`);
    return new RunFolder(dir, !existed);
  }

  /**
   * Makes a new folder named `dir`, or `dir-2`, `dir-3`, ... when that name is taken: for default
   * run folders (runs/<name>-<timestamp>), so that two runs started in the same second, e.g. from
   * one shell loop, never share a folder. mkdir of the last level is the atomic claim.
   */
  static createUnique(dir: string): RunFolder {
    try {
      makeFolder(dirname(dir));
    } catch (err) {
      throw new UserError(`${dirname(dir)}: cannot create the folder for runs: ${describeFsError(err)}`);
    }
    for (let k = 1; ; k++) {
      const candidate = k === 1 ? dir : `${dir}-${k}`;
      try {
        mkdirSync(candidate);
        return new RunFolder(candidate, true);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || k >= 1000) {
          throw new UserError(`${candidate}: cannot create the run folder: ${describeFsError(err)}`);
        }
      }
    }
  }

  /**
   * Throws a UserError unless `dir` can take a new run: it does not exist, or it holds none of the
   * files a run writes, except a config.json of nn-train's (left by a run that stopped before its
   * first epoch ended: a run writes config.json first and the other files with its first
   * checkpoint). `others` are more names that must not be overwritten (a race's table and chart).
   */
  static assertFree(dir: string, others: readonly string[] = []): void {
    let entries: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: --out must be a folder, this is a file`);
      entries = readdirSync(dir);
    } catch (err) {
      if (err instanceof UserError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new UserError(`${dir}: cannot use it as the run folder: ${describeFsError(err)}`);
    }
    if (entries.includes(RUN_FILES.checkpoint)) {
      const held = [RUN_FILES.checkpoint, RUN_FILES.model].filter((f) => entries.includes(f));
      throw new UserError(`${dir}: already holds a run (${held.join(', ')}); continue it with --resume ${dir}, or choose another --out`);
    }
    const foreign = [RUN_FILES.model, RUN_FILES.metrics, RUN_FILES.chart, ...others].filter((f) => entries.includes(f));
    if (entries.includes(RUN_FILES.config) && !isRunConfig(join(dir, RUN_FILES.config))) foreign.unshift(RUN_FILES.config);
    if (foreign.length > 0) {
      throw new UserError(`${dir}: already holds ${foreign.join(', ')}, which a new run would overwrite; choose another --out`);
    }
  }

  /**
   * Opens an existing run to resume it. A run killed while it wrote a file (kill -9, a power cut)
   * left the file whole (see writeFileAtomic) and a temporary file beside it, removed here.
   */
  static open(dir: string): RunFolder {
    if (!existsSync(dir)) throw new UserError(`${dir}: no such run folder to resume`);
    if (!existsSync(join(dir, RUN_FILES.checkpoint))) throw new UserError(`${dir}: holds no ${RUN_FILES.checkpoint} checkpoint to resume from`);
    removeStaleTempFiles(dir);
    return new RunFolder(dir);
  }

  readCheckpoint(): Checkpoint {
    const path = this.checkpointPath;
    try {
      return decodeCheckpoint(readTextFile(path, 'the checkpoint'));
    } catch (err) {
      if (err instanceof ModelFormatError) throw new UserError(`${path}: bad checkpoint: ${err.message}`);
      throw err;
    }
  }

  /**
   * After a run that failed before its first checkpoint (bad data, a network too large): removes
   * what it wrote, config.json, and the folder if this process made it and nothing else is in it,
   * so that failed attempts do not leave runs/ full of empty runs. Anything else is kept.
   */
  discardIfUnused(): void {
    try {
      const entries = readdirSync(this.dir);
      if (entries.some((f) => f !== RUN_FILES.config && !f.startsWith('.'))) return;
      if (entries.includes(RUN_FILES.config)) {
        if (!this.wroteNewConfig) return; // a config.json that was there before (perhaps the --config itself) stays
        rmSync(join(this.dir, RUN_FILES.config));
      }
      if (this.made && readdirSync(this.dir).length === 0) rmdirSync(this.dir);
    } catch {
      // Best effort: the error that stopped the run is the one to report.
    }
  }

  writeConfig(config: Config): void {
    this.wroteNewConfig ||= !existsSync(join(this.dir, RUN_FILES.config));
    writeFileAtomic(join(this.dir, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  }

  writeModel(model: Model): void {
    writeModelFile(this.modelPath, model);
  }

  writeCheckpoint(checkpoint: Checkpoint): void {
    writeFileAtomic(this.checkpointPath, encodeCheckpoint(checkpoint));
  }

  /** Rewrites metrics.jsonl and loss.svg from the whole history (small; atomic like the rest). */
  writeMetrics(history: readonly EpochMetrics[]): void {
    writeFileAtomic(join(this.dir, RUN_FILES.metrics), history.map((m) => JSON.stringify(m)).join('\n') + '\n');
    writeFileAtomic(join(this.dir, RUN_FILES.chart), lossChartSvg(history));
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** True when `path` is a config nn-train wrote (or could have): valid JSON that the schema accepts. */
function isRunConfig(path: string): boolean {
  try {
    validateConfig(JSON.parse(readFileSync(path, 'utf8')), path);
    return true;
  } catch {
    return false;
  }
}
