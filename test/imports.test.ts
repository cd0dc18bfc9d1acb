// The code reads bottom-up: no import cycle between files, the folders of src/ stacked in the layers
// below (a folder imports only folders of lower layers), and the math free of the command line,
// of files and of the terminal.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(__dirname, '..', 'src');

/**
 * The folders of src/, bottom first. A file at the top of src/ (errors.ts, files.ts, version.ts)
 * counts as a folder of its own. A folder may import its own files and those of lower layers only.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'version', 'random'], // exit codes and user errors, the version, seeded random numbers
  ['nn', 'optim'], // the math: layers, losses, the plan of a network; optimizers on flat buffers
  ['core'], // the gradient core: WebAssembly kernels on worker threads
  ['files'], // atomic writes, bounded reads
  ['data'], // finding, decoding, caching and batching images
  ['config'], // the config's schema, loading and checking
  ['io'], // the model file and the checkpoint
  ['report'], // charts (SVG, text), the layer table, terminal building blocks
  ['train'], // the training loop, the run folder, the learning-rate finder, the race
  ['eval', 'export'], // nn-eval's pipeline; the ONNX export
  ['cli'], // the commands: parse, run, print
  ['bench', 'tools'], // benchmarks and the build, never imported by the product
];

/** The math: it never imports the command line, files or the terminal. */
const MATH = ['nn', 'optim', 'core'];
/** The node: modules the math may use (the core runs worker threads), none for nn and optim. */
const MATH_NODE_MODULES: Record<string, readonly string[]> = { nn: [], optim: [], core: ['node:worker_threads', 'node:os', 'node:path', 'node:url', 'node:v8'] };
/** The core's only file reads: its own compiled kernels in dist/core (and the package root that holds them). */
const CORE_FS_FILES = ['core/kernels.ts', 'core/core.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) && !/\.(as|d)\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The files `file` names in its imports: runtime ones only, or type-only ones too. */
function importsOf(file: string, withTypes: boolean): string[] {
  const text = readFileSync(file, 'utf8');
  const from = withTypes ? /^\s*(?:import|export)\s+[^'";]*?from\s+'(\.[^']+)'/gm : /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/gm;
  const specifiers = [
    ...[...text.matchAll(from)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]!),
  ];
  return specifiers.map((s) => resolve(dirname(file), s));
}

/** The bare modules (node:fs, chalk, ...) `file` imports. */
function packageImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...[...text.matchAll(/^\s*(?:import|export)\s+[^'";]*?from\s+'([^.'][^']*)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*'([^.'][^']*)'\s*\)/g)].map((m) => m[1]!),
  ];
}

/** "nn" for src/nn/plan.ts, "errors" for src/errors.ts. */
const folderOf = (file: string): string => relative(src, file).split(sep)[0]!.replace(/\.ts$/, '');

function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

const files = sourceFiles(src);

describe('imports', () => {
  it('src/ has no import cycle between files (type-only imports aside: erased before they run)', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, false).filter((d) => files.includes(d))]));
    expect(cyclesOf(graph).map((c) => c.map((f) => relative(src, f)).join(' -> '))).toEqual([]);
    // The check sees imports at all: nn-train's command loads the race lazily.
    expect(graph.get(join(src, 'cli', 'nn-train.ts'))).toContain(join(src, 'cli', 'race.ts'));
  });

  it('every folder of src/ has its layer, once', () => {
    const folders = [...new Set(files.map(folderOf))].sort();
    expect([...LAYERS.flat()].sort()).toEqual(folders);
  });

  it('a folder imports only its own files and folders of lower layers (type imports included), so folders have no cycle', () => {
    const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));
    const wrong: string[] = [];
    const folderGraph = new Map<string, string[]>();
    for (const f of files) {
      for (const d of importsOf(f, true).filter((d) => files.includes(d))) {
        const [a, b] = [folderOf(f), folderOf(d)];
        if (a === b) continue;
        folderGraph.set(a, [...new Set([...(folderGraph.get(a) ?? []), b])]);
        if (layerOf.get(b)! >= layerOf.get(a)!) wrong.push(`${relative(src, f)} -> ${relative(src, d)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(cyclesOf(folderGraph).map((c) => c.join(' -> '))).toEqual([]);
    // The check sees imports between folders at all.
    expect(folderGraph.get('train')).toContain('random');
    expect(folderGraph.get('io')).toContain('config');
  });

  it('the math (nn, optim, core) imports no command line, files or terminal', () => {
    const wrong: string[] = [];
    // The .ts files: a .mjs beside the kernels is their build step, run by src/tools/build.mjs.
    for (const f of files.filter((f) => MATH.includes(folderOf(f)) && f.endsWith('.ts'))) {
      const name = relative(src, f);
      const allowed = [...MATH_NODE_MODULES[folderOf(f)]!, ...(CORE_FS_FILES.includes(name) ? ['node:fs'] : [])];
      for (const m of packageImports(f)) if (m.startsWith('node:') && !allowed.includes(m)) wrong.push(`${name} imports ${m}`);
      for (const m of packageImports(f)) if (m === 'chalk' || m === 'commander') wrong.push(`${name} imports ${m}`);
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (/\bprocess\.(stdout|stderr|stdin|argv|exit)\b/.test(code)) wrong.push(`${name} uses the terminal or the command line`);
    }
    expect(wrong).toEqual([]);
  });
});
