/**
 * Ctrl-C and kill, handled as the command-line tools people trust handle them: clean up (the
 * checkpoint, the progress line, the cursor), then die BY the signal.
 *
 * Why not process.exit(130): a shell running `for i in 1 2; do nn-train ...; done` learns of a
 * Ctrl-C from how its program ended. Killed by SIGINT, bash (and make) stop the loop; a program
 * that exits normally, whatever its code, is taken to have handled Ctrl-C itself, and the loop goes
 * on to run 2. So after cleaning up we remove our handler (the signal's default action is back) and
 * send the signal to ourselves. The shell still reports the status as 130 (128 + 2), and 143 for
 * SIGTERM.
 */
import { constants } from 'node:os';
import { restoreTerminal } from '../report/status-line.ts';

export type StopSignal = 'SIGINT' | 'SIGTERM';
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** Erases the live line, shows the cursor, then ends the process by `signal`. */
export function dieBySignal(signal: StopSignal): never {
  process.removeAllListeners(signal); // first: whatever happens next, the signal's default action is back
  try {
    restoreTerminal();
  } catch {
    // a terminal that cannot be written to must not keep the process from ending by the signal
  }
  process.kill(process.pid, signal);
  // A signal sent to oneself is delivered before kill() returns; this line only covers a platform
  // where it is not, with the status a shell would show.
  process.exit(128 + constants.signals[signal]);
}

/**
 * For a command with nothing to save (nn-eval): on Ctrl-C or SIGTERM, erase the progress line and
 * die by the signal at once. Returns a function that removes the handlers.
 */
export function dieOnStopSignals(): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => dieBySignal(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}
