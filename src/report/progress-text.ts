/**
 * The text of a progress bar, for cli-progress's `format` option, fitted to the terminal's width:
 *
 *   epoch 2/10 ██████████░░░░░░░░░░ 19/38 | loss 0.3494 | 9,260 img/s | ETA 0:04 | run ETA 1:20
 *
 * The label and the count always show; the bar (cli-progress's, drawn by its BarFormat) takes 10
 * to `barsize` columns; the fields follow in their order. When the width is short the least
 * important fields go first (each field has a rank: 1 is kept longest), then the bar, then the
 * fields of rank 1 and 2. So at 60 columns an epoch still shows its loss and ETA, and at 40 it
 * shows them without the bar.
 */
import cliProgress from 'cli-progress';

export interface ProgressField {
  text: string;
  /** 1 = most important: dropped last. */
  rank: number;
}

export interface ProgressParts {
  label: string;
  /** Shown after the count ("19/38 images"). */
  unit?: string;
  fields: readonly ProgressField[];
}

const BAR_MIN = 10;
const SEPARATOR = ' | ';
/** Fields of a rank below this one (the loss, the ETA) are worth more than the bar. */
const BAR_KEPT_OVER = 3;

/** The frame's text: `p` and cli-progress's value, total and bar, in params.maxWidth characters if it can. */
export function progressText(options: cliProgress.Options, params: cliProgress.Params, p: ProgressParts): string {
  const width = params.maxWidth;
  const count = `${params.value}/${params.total}${p.unit ? ` ${p.unit}` : ''}`;
  let fields = [...p.fields];
  const compose = (barsize: number): string => {
    const bar = barsize > 0 ? ` ${cliProgress.Format.BarFormat(params.progress, { ...options, barsize })}` : '';
    return `${p.label}${bar} ${count}${fields.map((f) => SEPARATOR + f.text).join('')}`;
  };
  const dropLeast = (): void => {
    const least = fields.reduce((a, b) => (b.rank > a.rank ? b : a));
    fields = fields.filter((f) => f !== least);
  };
  // With the bar: drop fields of rank 3 and more until a bar of BAR_MIN fits.
  for (;;) {
    const room = width - compose(0).length - 1;
    if (room >= BAR_MIN) return compose(Math.min(options.barsize ?? BAR_MIN, room));
    if (!fields.some((f) => f.rank >= BAR_KEPT_OVER)) break;
    dropLeast();
  }
  // Without the bar: the label, the count and the most important fields.
  while (fields.length > 0 && compose(0).length > width) dropLeast();
  return compose(0); // the terminal cuts what still does not fit (autowrap is off)
}

/**
 * cli-progress's ETA in seconds (the rate over its last `etaBuffer` updates), or null while it is
 * not known: no rate yet ("NULL", "INF", or 0 with work left).
 */
export function etaOf(params: cliProgress.Params): number | null {
  const eta: unknown = params.eta;
  if (typeof eta !== 'number' || !Number.isFinite(eta)) return null;
  return eta === 0 && params.value < params.total ? null : eta;
}

/** Items per second since the bar started, from cli-progress's start time and value. */
export function rateOf(params: cliProgress.Params, startValue = 0): number {
  const seconds = (Date.now() - params.startTime) / 1000;
  return seconds > 0 ? (params.value - startValue) / seconds : NaN;
}

/** A duration as m:ss, or h:mm:ss from an hour on; "-" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** A rate ("9,260"), or "-" before there is one. */
export function formatRate(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-';
}
