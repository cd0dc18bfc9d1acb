// The code has no import cycles (a newcomer can read the modules bottom-up): every `import`,
// `export ... from` and `import()` between files of src/, type-only imports aside (erased before
// they run), forms a graph without a cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.ts$/.test(e.name) && !/\.as\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The files of src/ that `file` loads when it runs. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]!),
  ];
  return specifiers.map((s) => resolve(dirname(file), s));
}

describe('imports', () => {
  it('src/ has no import cycle', () => {
    const files = sourceFiles(src);
    const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((d) => files.includes(d))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file)!) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => relative(src, f)).join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
    // The check sees imports at all: nn-train's command loads the race lazily.
    expect(graph.get(join(src, 'cli', 'nn-train.ts'))).toContain(join(src, 'cli', 'race.ts'));
  });
});
