import pc from 'picocolors';
import { pino } from 'pino';

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /** `json`: pino's JSON lines (the default, for services); `pretty`: short human lines. */
  format?: 'json' | 'pretty';
  /** Colour the pretty lines (default: when the stream is a TTY). */
  color?: boolean;
  /** Rewrites each message before printing (the dev server maps isolate paths to the user's files). */
  rewrite?: (text: string, worker?: string) => string;
  /** Where lines go (default stderr). */
  stream?: NodeJS.WritableStream;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function prettyStream(options: CliLoggerOptions): { write(line: string): void } {
  const out = options.stream ?? process.stderr;
  const colorOn = options.color ?? (out as NodeJS.WriteStream).isTTY === true;
  const c = pc.createColors(colorOn);
  const rewrite = options.rewrite ?? ((s: string) => s);
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { level, time: _t, msg, worker, stream, err, ...rest } = rec;
      const label = LEVELS[level as number] ?? 'info';
      const tag = worker ? c.cyan(`[${worker}] `) : '';
      const w = typeof worker === 'string' ? worker : undefined;
      let text = rewrite(String(msg ?? ''), w);
      if (stream === 'stderr') text = c.yellow(text);
      const head =
        label === 'error' || label === 'fatal'
          ? `${c.red('error')} `
          : label === 'warn'
            ? `${c.yellow('warning')} `
            : label === 'debug' || label === 'trace'
              ? c.dim('debug ')
              : '';
      if (msg === 'request' && rest.method) {
        const status = Number(rest.status);
        const st =
          status >= 500
            ? c.red(String(status))
            : status >= 400
              ? c.yellow(String(status))
              : c.green(String(status));
        out.write(`${c.dim(String(rest.method))} ${rest.url} ${st} ${c.dim(`${rest.ms} ms`)}\n`);
        return;
      }
      // Some libraries log `err` as a message string (a traceback, already printed in full
      // by the isolate's own log line): its last line is enough here.
      const e =
        typeof err === 'string'
          ? { message: err.trimEnd().split('\n').at(-1), stack: err }
          : (err as { message?: string; stack?: string } | undefined);
      const extra =
        label === 'debug' || label === 'trace'
          ? Object.entries(rest)
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' ')
          : '';
      const errText = e ? `: ${rewrite(String(label === 'debug' ? e.stack : e.message), w)}` : '';
      out.write(`${head}${tag}${text}${extra ? c.dim(` ${extra}`) : ''}${errText}\n`);
    },
  };
}

/**
 * The CLI's logger, level from `PYWORKERS_LOG` (default `info`): pino JSON lines on stderr, or
 * short human lines with `format: 'pretty'`.
 * @example const logger = createCliLogger('debug', { format: 'pretty' });
 */
export function createCliLogger(
  level = process.env.PYWORKERS_LOG ?? 'info',
  options: CliLoggerOptions = {},
): pino.Logger {
  if (options.format === 'pretty') return pino({ level, base: undefined }, prettyStream(options));
  const rewrite = options.rewrite;
  if (!rewrite) return pino({ level, base: undefined }, pino.destination(2));
  const out = options.stream ?? process.stderr;
  return pino(
    { level, base: undefined },
    {
      write(line: string) {
        const rec = JSON.parse(line) as Record<string, unknown>;
        const worker = typeof rec.worker === 'string' ? rec.worker : undefined;
        if (typeof rec.msg === 'string') rec.msg = rewrite(rec.msg, worker);
        out.write(`${JSON.stringify(rec)}\n`);
      },
    },
  );
}
