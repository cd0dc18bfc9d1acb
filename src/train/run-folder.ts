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
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { describeFsError, UserError } from '../errors.ts';
import { readTextFile, writeFileAtomic, writeModelFile } from '../io/files.ts';
import type { Architecture } from '../nn/architecture.ts';
import { ModelFormatError, type JsonValue, type Preprocessing } from '../nn/model-file.ts';
import { lossChartSvg } from '../report/loss-chart.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type EpochMetrics } from './checkpoint.ts';

export const RUN_FILES = { config: 'config.json', model: 'model.json', checkpoint: 'last.json', metrics: 'metrics.jsonl', chart: 'loss.svg' } as const;

/** "runs/<name>-YYYYMMDD-HHMMSS" in local time. */
export function defaultRunDir(name: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join('runs', `${name}-${stamp}`);
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  get modelPath(): string {
    return join(this.dir, RUN_FILES.model);
  }

  get checkpointPath(): string {
    return join(this.dir, RUN_FILES.checkpoint);
  }

  /** Makes a new run folder; refuses one that already holds a run, so nothing is overwritten. */
  static create(dir: string): RunFolder {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: --out must be a folder, this is a file`);
      const held = readdirSync(dir).filter((f) => f === RUN_FILES.checkpoint || f === RUN_FILES.model);
      if (held.length > 0) {
        throw new UserError(`${dir}: already holds a run (${held.join(', ')}); continue it with --resume ${dir}, or choose another --out`);
      }
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new UserError(`${dir}: cannot create the run folder: ${describeFsError(err)}`);
    }
    return new RunFolder(dir);
  }

  /** Opens an existing run to resume it. */
  static open(dir: string): RunFolder {
    if (!existsSync(dir)) throw new UserError(`${dir}: no such run folder to resume`);
    if (!existsSync(join(dir, RUN_FILES.checkpoint))) throw new UserError(`${dir}: holds no ${RUN_FILES.checkpoint} checkpoint to resume from`);
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

  writeConfig(config: Config): void {
    writeFileAtomic(join(this.dir, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  }

  writeModel(architecture: Architecture, preprocessing: Preprocessing, params: Float32Array, meta: Record<string, JsonValue>): void {
    writeModelFile(this.modelPath, { architecture, preprocessing, params, meta });
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
