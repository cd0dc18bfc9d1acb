/**
 * The summary nn-eval prints on stderr for people when it is done:
 *
 *   nn-eval: 1200 images (1000 labeled, 200 unlabeled), 2 skipped, 3.1 s, 387 images/s
 *     accuracy   91.30%  (913 of 1000 at threshold 0.5)
 *     per class  cats 96.00% (480 of 500)   dogs 86.60% (433 of 500)
 *     log loss   0.2312  (0.2290 clipped to [0.005, 0.995])
 *     confusion  actual \ predicted    cat    dog
 *                cat                   480     20
 *                dog                    67    433
 *     unlabeled  130 called cats, 70 called dogs
 */
import type { ChalkInstance } from 'chalk';
import type { EvalMetrics } from './metrics.ts';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatSummary(m: EvalMetrics, seconds: number, chalk: ChalkInstance): string {
  const counts: string[] = [];
  if (m.labeled > 0 && m.unlabeled > 0) counts.push(`${m.labeled} labeled, ${m.unlabeled} unlabeled`);
  else if (m.images > 0 && m.labeled === 0) counts.push('no labels');
  let head = `nn-eval: ${plural(m.images, 'image')}${counts.length ? ` (${counts.join(', ')})` : ''}`;
  if (m.skipped > 0) head += `, ${chalk.yellow(`${m.skipped} skipped`)}`;
  head += `, ${seconds.toFixed(1)} s`;
  if (seconds > 0 && m.images > 0) head += `, ${Math.round(m.images / seconds)} images/s`;
  const out = [head];
  if (m.accuracy !== null && m.logLoss !== null && m.clippedLogLoss !== null) {
    const correct = m.confusion.cat.cat + m.confusion.dog.dog;
    out.push(`  ${chalk.bold('accuracy')}   ${(100 * m.accuracy).toFixed(2)}%  (${correct} of ${m.labeled} at threshold ${m.threshold})`);
    const perClass = (name: string, accuracy: number | null, right: number, total: number) =>
      accuracy === null ? `no ${name}` : `${name} ${(100 * accuracy).toFixed(2)}% (${right} of ${total})`;
    const { cat, dog } = m.confusion;
    out.push(
      `  ${chalk.bold('per class')}  ${perClass('cats', m.classAccuracy.cat, cat.cat, cat.cat + cat.dog)}   ${perClass('dogs', m.classAccuracy.dog, dog.dog, dog.cat + dog.dog)}`,
    );
    out.push(`  ${chalk.bold('log loss')}   ${m.logLoss.toFixed(4)}  (${m.clippedLogLoss.toFixed(4)} clipped to [${m.clip}, ${+(1 - m.clip).toFixed(12)}])`);
    const w = Math.max(5, String(Math.max(m.confusion.cat.cat, m.confusion.cat.dog, m.confusion.dog.cat, m.confusion.dog.dog)).length);
    const cell = (n: number) => String(n).padStart(w + 2);
    out.push(`  ${chalk.bold('confusion')}  actual \\ predicted  ${'cat'.padStart(w + 2)}${'dog'.padStart(w + 2)}`);
    out.push(`             cat                ${cell(m.confusion.cat.cat)}${cell(m.confusion.cat.dog)}`);
    out.push(`             dog                ${cell(m.confusion.dog.cat)}${cell(m.confusion.dog.dog)}`);
  }
  if (m.unlabeled > 0) {
    const { cat, dog } = m.unlabeledPredicted;
    out.push(`  ${chalk.bold(m.labeled > 0 ? 'unlabeled' : 'predicted')}  ${plural(cat, 'cat')}, ${plural(dog, 'dog')} (at threshold ${m.threshold})`);
  }
  return out.join('\n') + '\n';
}
