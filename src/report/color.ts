/**
 * Whether to colour a stream, decided once from (in this order):
 *   1. --color / --no-color on the command line;
 *   2. NO_COLOR set and non-empty: no colour (https://no-color.org);
 *   3. FORCE_COLOR: "0" or "false" disables, "1"/"true"/"" enables, "2"/"3" pick 256 / true colour;
 *   4. otherwise colour only when the stream is a TTY and TERM is not "dumb".
 * The result feeds a chalk instance of our own, since chalk's own detection looks at stdout while
 * our human output goes to stderr.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export type ColorLevel = 0 | 1 | 2 | 3;

export function colorLevel(isTTY: boolean, env: NodeJS.ProcessEnv, flag?: boolean): ColorLevel {
  if (flag === false) return 0;
  if (flag === true) return forcedLevel(env.FORCE_COLOR) || 1;
  if (env.NO_COLOR) return 0;
  if (env.FORCE_COLOR !== undefined) return forcedLevel(env.FORCE_COLOR);
  if (!isTTY || env.TERM === 'dumb') return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  return /256/.test(env.TERM ?? '') ? 2 : 1;
}

function forcedLevel(value: string | undefined): ColorLevel {
  if (value === undefined) return 0;
  if (value === '0' || value === 'false') return 0;
  if (value === '2') return 2;
  if (value === '3') return 3;
  return 1;
}

export function makeChalk(level: ColorLevel): ChalkInstance {
  return new Chalk({ level });
}

/**
 * How to show progress on stderr: `live` (a bar redrawn in place) only for a person at a terminal;
 * `plain` (occasional lines, no escape codes for moving the cursor) when stderr is not a terminal,
 * TERM is "dumb" (a terminal that cannot move its cursor: Emacs' shell, some CI logs) or
 * --no-progress asks for it; `none` with --quiet. NO_COLOR is about colour only
 * (https://no-color.org): it leaves the progress as it is.
 */
export type ProgressStyle = 'live' | 'plain' | 'none';

export function progressStyle(isTTY: boolean, env: NodeJS.ProcessEnv, options: { quiet: boolean; progress: boolean }): ProgressStyle {
  if (options.quiet) return 'none';
  return isTTY && options.progress && env.TERM !== 'dumb' ? 'live' : 'plain';
}
