/**
 * Test support for nn-eval's end-to-end tests: the built command (`npm test` builds dist/ before
 * vitest runs), run as a user runs it, through bash so that pipelines and PIPESTATUS work.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../src/io/model-file.ts';

const root = join(import.meta.dirname, '..');

/** The package folder holding bin/nn-eval.js and the built dist/ (fails clearly when dist/ is missing). */
export async function builtPackage(): Promise<string> {
  if (!existsSync(join(root, 'dist', 'cli', 'nn-eval.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  return root;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a shell command line (bash, so pipelines and PIPESTATUS work) and collects its output. */
export function runShell(command: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Quotes a string for bash. */
export function sh(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Logistic regression on 4x4 RGB with hand-set weights, so every answer is known:
 * p_dog = sigmoid(8 v / 255 - 4) for a uniform grey picture of value v.
 */
export function handSetModel(): Model {
  const D = 4 * 4 * 3;
  const params = new Float32Array(D + 1).fill(8 / D, 0, D);
  params[D] = -4;
  return {
    network: { input: { height: 4, width: 4, channels: 3 }, layers: [{ type: 'dense', units: 1, bias: true }] },
    preprocessing: { width: 4, height: 4, channels: 3, fit: 'fill', scale: 1 / 255, mean: null, std: null },
    params,
    stats: new Float32Array(0),
    meta: { note: 'hand-set logistic regression for nn-eval tests' },
  };
}
