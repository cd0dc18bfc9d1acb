// What ships is the product: `npm pack` holds the commands and what they load at run time, and no
// Python, benchmark or test (the benchmarks build into dist-bench/, which package.json "files"
// leaves out). Reads the list npm itself would pack (npm test builds dist/ first).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

/** The paths `npm pack` would put in the package, without running the build (--ignore-scripts). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[] }[];
  return pack!.files.map((f) => f.path);
}

describe('the package', () => {
  const files = packedFiles();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };

  it('holds only the commands, their bundles, the configs and the README', () => {
    expect(files.filter((f) => !/^(bin|dist|configs)\//.test(f) && f !== 'README.md' && f !== 'package.json')).toEqual([]);
  });

  it('ships no Python, no benchmark and no test', () => {
    expect(files.filter((f) => f.endsWith('.py'))).toEqual([]);
    expect(files.filter((f) => /(^|\/)bench/.test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)tests?\/|\.test\.[cm]?[jt]s$/.test(f))).toEqual([]);
    // Not even inside a shared chunk: the source maps name every module a bundle holds.
    const sources = files.filter((f) => f.endsWith('.js.map')).flatMap((f) => (JSON.parse(readFileSync(join(root, f), 'utf8')) as { sources: string[] }).sources);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => /src\/bench\/|(^|\/)test\//.test(s))).toEqual([]);
  });

  it('has every command and what the commands load at run time', () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(['nn-eval', 'nn-export', 'nn-plot', 'nn-train']);
    for (const bin of Object.values(pkg.bin)) {
      expect(files).toContain(bin);
      const bundle = /from '\.\.\/(dist\/[^']+)'/.exec(readFileSync(join(root, bin), 'utf8'))?.[1];
      expect(bundle, bin).toBeDefined();
      expect(files).toContain(bundle);
    }
    for (const asset of ['dist/core/worker.js', 'dist/core/kernels-relaxed.wasm', 'dist/core/kernels-simd.wasm', 'dist/data/decode-child.js', 'dist/data/resize.wasm']) {
      expect(files).toContain(asset);
    }
  });
});
