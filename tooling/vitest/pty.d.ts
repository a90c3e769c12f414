import type { ChildProcess } from 'node:child_process';

/** Whether util-linux `script` (a pseudo-terminal for a command) is here. */
export declare function hasScript(): boolean;
/** Terminal output as plain lines: no colour codes, no carriage returns, no spinner frames. */
export declare function plainLines(text: string): string[];
/** A command running on a pseudo-terminal. */
export interface PtyProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}
/** Runs `argv` under `script -qfec`, which gives it a real pseudo-terminal. */
export declare function startPty(
  argv: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): PtyProcess;
