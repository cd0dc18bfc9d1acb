/**
 * Runs a command's main(argv) in this process and captures what it writes to stdout and stderr
 * (as text), for the CLI checks that need no separate process.
 */
import { vi } from 'vitest';

export async function runInProcess(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => (stdout += s)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => (stderr += s)));
  // main() adds an EPIPE listener to stdout on each call (see src/cli/common.ts); drop ours afterwards.
  const listeners = process.stdout.listeners('error');
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    for (const l of process.stdout.listeners('error')) if (!listeners.includes(l)) process.stdout.off('error', l as () => void);
    out.mockRestore();
    err.mockRestore();
  }
}
