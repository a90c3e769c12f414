/** A progress line that can be updated and then cleared. */
export interface ProgressTask {
  /** Sets how far along it is (bytes or items); `total` may arrive late. */
  update(done: number, total?: number): void;
  /** Clears the line. */
  done(): void;
}

/** Progress bars and spinners on one terminal line; all no-ops when disabled. */
export interface Progress {
  readonly enabled: boolean;
  /** A bar for work with a size (downloads), or a spinner with elapsed time when there is none. */
  task(label: string, total?: number): ProgressTask;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const noopTask: ProgressTask = { update() {}, done() {} };

function size(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/**
 * Progress on `stream` when it is a TTY; a piped or `--json` run gets none (nothing to parse
 * around, no carriage returns in logs).
 */
export function createProgress(
  stream: NodeJS.WriteStream,
  enabled = stream.isTTY === true,
): Progress {
  if (!enabled) return { enabled: false, task: () => noopTask };
  const tasks = new Set<{ label: string; done: number; total?: number; started: number }>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const render = (): void => {
    const width = Math.max(20, (stream.columns || 80) - 1);
    const parts = [...tasks].map((t) => {
      if (t.total) {
        const ratio = Math.min(1, t.done / t.total);
        const bar = '█'.repeat(Math.round(ratio * 20)).padEnd(20, '░');
        return `${t.label} ${bar} ${size(t.done)}/${size(t.total)}`;
      }
      const secs = ((performance.now() - t.started) / 1000).toFixed(1);
      return `${FRAMES[frame % FRAMES.length]} ${t.label} ${t.done ? `${size(t.done)} ` : ''}${secs}s`;
    });
    stream.write(`\r\x1b[2K${parts.join('  ').slice(0, width)}`);
  };
  const stop = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
    stream.write('\r\x1b[2K');
  };
  return {
    enabled: true,
    task(label, total) {
      const t = { label, done: 0, started: performance.now(), ...(total ? { total } : {}) };
      tasks.add(t);
      timer ??= setInterval(() => {
        frame++;
        render();
      }, 80);
      timer.unref();
      render();
      return {
        update(done, newTotal) {
          t.done = done;
          if (newTotal) t.total = newTotal;
        },
        done() {
          tasks.delete(t);
          if (tasks.size === 0) stop();
          else render();
        },
      };
    },
  };
}
