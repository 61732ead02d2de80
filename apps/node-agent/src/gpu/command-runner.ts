import { execFile } from 'node:child_process';

export interface CommandResult {
  /** null when the command could not be started or was killed. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** not_found: no such executable; timeout: killed after timeoutMs; failed: could not start otherwise. */
  failure: 'not_found' | 'timeout' | 'failed' | null;
}

/** Runs an external command. Injected so tests never need a GPU or nvidia-smi. */
export type CommandRunner = (command: string, args: readonly string[], options: { timeoutMs: number }) => Promise<CommandResult>;

/** The real runner (child_process.execFile, no shell). */
export const execCommandRunner: CommandRunner = (command, args, { timeoutMs }) =>
  new Promise((resolve) => {
    execFile(command, [...args], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ exitCode: 0, stdout, stderr, failure: null });
      const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (err.code === 'ENOENT') return resolve({ exitCode: null, stdout: '', stderr: '', failure: 'not_found' });
      if (err.killed) return resolve({ exitCode: null, stdout, stderr, failure: 'timeout' });
      if (typeof err.code === 'number') return resolve({ exitCode: err.code, stdout, stderr, failure: null });
      resolve({ exitCode: null, stdout, stderr, failure: 'failed' });
    });
  });
