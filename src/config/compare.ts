/** Which fields of two configs differ, as "path: a -> b" lines (for refusing a resume). */
import type { Config } from './schema.ts';

export function describeConfigDifferences(a: Config, b: Config, ignore: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (ignore.includes(path)) return;
    const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isObj(x) && isObj(y)) {
      const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
      for (const k of [...keys].sort()) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${path}: ${JSON.stringify(x) ?? 'absent'} -> ${JSON.stringify(y) ?? 'absent'}`);
  };
  walk(a, b, '');
  return out;
}
