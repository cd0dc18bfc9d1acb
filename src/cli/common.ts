/**
 * What every command shares: turning errors into one line and an exit code, quiet ends on closed
 * pipes, a terminal left as it was found, and the parsing of the command line.
 *
 * Exit codes: 0 done, 1 runtime failure, 2 usage/config/input error, 3 diverged, 130 interrupted.
 */
import { CommanderError, type Command } from 'commander';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { restoreTerminal } from '../report/status-line.ts';

/**
 * Runs a command body; a UserError prints "name: message" (no stack) and returns its exit code.
 * `ownStdoutErrors`: the command handles stdout's errors itself (nn-train, whose run must not end
 * with exit 0 when the reader of its JSON lines goes away), instead of quietOnClosedPipe.
 */
export async function runCommand(name: string, body: () => Promise<number>, options: { ownStdoutErrors?: boolean } = {}): Promise<number> {
  if (!options.ownStdoutErrors) quietOnClosedPipe(process.stdout);
  restoreTerminalOnExit();
  try {
    return await body();
  } catch (err) {
    return reportError(name, err);
  } finally {
    await letPendingSignalsThrough();
  }
}

/**
 * One more turn of the event loop, through its poll phase. A Ctrl-C that arrived while the main
 * thread was busy (waiting on the core's threads) waits in libuv's signal pipe until the loop
 * polls; when the work ends in that same turn (`ls | nn-eval model.json -`: the Ctrl-C also ends
 * the input), nothing keeps the loop alive, Node exits without reading the pipe, and the shell
 * sees a normal exit and goes on. A timer keeps the loop alive into its next poll, where the
 * signal's handler runs (and the process dies by it: signals.ts).
 */
function letPendingSignalsThrough(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function reportError(name: string, err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`${name}: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    // commander has already printed its message.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const e = err as Error;
  process.stderr.write(`${name}: error: ${e?.message ?? String(err)}\n`);
  if (process.env.NN_TRAIN_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return EXIT.failure;
}

/**
 * Whatever ends the process (a return from main, process.exit on a closed pipe, a crash), the
 * progress line is erased and the cursor shown again. A crash: the monitor runs before Node prints
 * the error, so the stack trace starts on a clean line. (A signal is handled by signals.ts.)
 */
function restoreTerminalOnExit(): void {
  if (process.listeners('exit').includes(restoreTerminal)) return;
  process.on('exit', restoreTerminal);
  process.on('uncaughtExceptionMonitor', restoreTerminal);
}

/**
 * `nn-eval ... | head -3`: when the reader goes away, stop quietly with exit 0 instead of an
 * EPIPE stack trace.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (!stream.listeners('error').includes(exitOnEpipe)) stream.on('error', exitOnEpipe);
}

function exitOnEpipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  // Any other failure to write the data (a full disk, /dev/full): one line, not a stack trace.
  try {
    process.stderr.write(`${commandName()}: cannot write to stdout: ${describeFsError(err)}\n`);
  } catch {
    // stderr is gone too: the exit code still says it
  }
  process.exit(EXIT.failure);
}

/** The running command's name, for messages from process-wide handlers. */
function commandName(): string {
  const script = process.argv[1] ?? 'nn-train';
  return script.replace(/^.*[\\/]/, '').replace(/\.js$/, '');
}

/**
 * Parses "--flag <n>" values: a number when it is written as a decimal one (3, -1, 0.5, 1e-3), else
 * the raw string, so the schema can say what was wrong. Not Number(value), which also reads "0x10"
 * as 16, "0b11" as 3 and " 7 " as 7.
 */
export function numberOrString(value: string): number | string {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) && Number.isFinite(Number(value)) ? Number(value) : value;
}

/**
 * Runs a commander program over argv without letting it print or exit: returns the help (or
 * version) text when that was asked for, null when the arguments parsed; a usage error becomes a
 * UserError (exit 2) that points at `name --help`.
 */
export function parseOrHelp(program: Command, argv: readonly string[], name: string): string | null {
  let out = '';
  let err = '';
  program.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  try {
    program.parse([...argv], { from: 'user' });
    return null;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return out;
    // commander may add a second line (a suggestion); our errors stay on one.
    const message = (err.trim() || (e as Error).message).replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    throw new UserError(`${message} (see ${name} --help)`);
  }
}
