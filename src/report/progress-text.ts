/**
 * The text of a progress bar, fitted to the terminal's width:
 *
 *   epoch 2/10 ██████████░░░░░░░░░░ 19/38 | loss 0.3494 | 9,260 img/s | ETA 0:04 | run ETA 1:20
 *
 * The label and the count always show; the bar takes 10 to 30 columns; the fields follow in their
 * order. When the width is short the least important fields go first (each field has a rank: 1
 * is kept longest), then the bar, then the fields of rank 1 and 2. So at 60 columns an epoch still
 * shows its loss and ETA, and at 40 it shows them without the bar.
 */

export interface ProgressField {
  text: string;
  /** 1 = most important: dropped last. */
  rank: number;
}

export interface ProgressParts {
  label: string;
  done: number;
  total: number;
  /** Shown after the count ("19/38 images"). */
  unit?: string;
  fields: readonly ProgressField[];
}

const BAR_MIN = 10;
const BAR_MAX = 30;
const SEPARATOR = ' | ';
/** Fields of a rank below this one (the loss, the ETA) are worth more than the bar. */
const BAR_KEPT_OVER = 3;

export function progressText(p: ProgressParts, width: number): string {
  const count = `${p.done}/${p.total}${p.unit ? ` ${p.unit}` : ''}`;
  let fields = [...p.fields];
  const compose = (barWidth: number): string => {
    const bar = barWidth > 0 ? ` ${drawBar(p.done / Math.max(1, p.total), barWidth)}` : '';
    return `${p.label}${bar} ${count}${fields.map((f) => SEPARATOR + f.text).join('')}`;
  };
  const dropLeast = (): void => {
    const least = fields.reduce((a, b) => (b.rank > a.rank ? b : a));
    fields = fields.filter((f) => f !== least);
  };
  // With the bar: drop fields of rank 3 and more until a bar of BAR_MIN fits.
  for (;;) {
    const room = width - compose(0).length - 1;
    if (room >= BAR_MIN) return compose(Math.min(BAR_MAX, room));
    if (!fields.some((f) => f.rank >= BAR_KEPT_OVER)) break;
    dropLeast();
  }
  // Without the bar: the label, the count and the most important fields.
  while (fields.length > 0 && compose(0).length > width) dropLeast();
  return compose(0); // StatusLine cuts what still does not fit
}

/** A bar of `width` cells, `fraction` of them full. */
export function drawBar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
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
