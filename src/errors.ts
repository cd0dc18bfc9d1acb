/**
 * Errors a user can fix (a bad path, config, image or model file) carry the exit code the command
 * ends with, and a one-line message that names the file and the field. The CLI prints these
 * without a stack trace; anything else is a bug or a runtime failure (exit 1).
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  diverged: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Short text for a Node file-system error code, for messages such as "runs/x: permission denied". */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, expected a file';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ELOOP':
      return 'too many symbolic links (a loop?)';
    default:
      return (err as Error)?.message ?? String(err);
  }
}
