import pc from 'picocolors';
import { pino } from 'pino';

/** How log lines are written. */
export type LogFormat = 'json' | 'pretty';

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /**
   * `json`: pino's JSON lines, for machines; `pretty`: short human lines with the same fields.
   * Default: `PYWORKERS_LOG_FORMAT` if set, else pretty on a terminal and JSON otherwise.
   */
  format?: LogFormat;
  /** Colour the pretty lines (default: when the stream is a TTY and NO_COLOR is unset). */
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

/**
 * The format for `stream` when none is asked for: `PYWORKERS_LOG_FORMAT` (`json`/`pretty`), else
 * pretty on a terminal and JSON when piped or redirected (a log collector reads those).
 */
export function defaultLogFormat(stream: NodeJS.WritableStream = process.stderr): LogFormat {
  const asked = process.env.PYWORKERS_LOG_FORMAT?.toLowerCase();
  if (asked === 'json' || asked === 'pretty') return asked;
  return (stream as NodeJS.WriteStream).isTTY === true ? 'pretty' : 'json';
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function clock(time: unknown): string {
  const d = new Date(typeof time === 'number' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One JSON record as human lines: every line of a multi-line message keeps the worker tag. */
export function formatPretty(
  rec: Record<string, unknown>,
  c: ReturnType<typeof pc.createColors>,
  rewrite: (text: string, worker?: string) => string = (s) => s,
): string {
  const { level, time, msg, worker, stream, err, ...rest } = rec;
  const label = LEVELS[level as number] ?? 'info';
  const w = typeof worker === 'string' ? worker : undefined;
  const tag = w ? c.cyan(`[${w}] `) : '';
  const head =
    label === 'error' || label === 'fatal'
      ? `${c.red('error')} `
      : label === 'warn'
        ? `${c.yellow('warning')} `
        : label === 'debug' || label === 'trace'
          ? c.dim(`${label} `)
          : '';
  const prefix = `${c.dim(clock(time))} ${head}${tag}`;
  if (msg === 'request' && rest.method) {
    const { method, url, status, ms, ...more } = rest;
    const n = Number(status);
    const st =
      n >= 500
        ? c.red(String(status))
        : n >= 400
          ? c.yellow(String(status))
          : c.green(String(status));
    const extra = Object.entries(more).map(([k, v]) => `${k}=${show(v)}`);
    return `${prefix}${c.dim(String(method))} ${url} ${st} ${c.dim([`${ms} ms`, ...extra].join(' '))}\n`;
  }
  // Some libraries log `err` as a message string (a traceback, already printed in full by the
  // isolate's own log line): its last line is enough here.
  const e =
    typeof err === 'string'
      ? { message: err.trimEnd().split('\n').at(-1), stack: err }
      : (err as { message?: string; stack?: string } | undefined);
  const errText = e ? `: ${String(label === 'debug' ? e.stack : e.message)}` : '';
  let text = rewrite(`${String(msg ?? '')}${errText}`, w);
  if (stream === 'stderr') text = c.yellow(text);
  const fields = Object.entries({ ...(stream === 'stdout' ? {} : { stream }), ...rest })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(' ');
  const lines = text.trimEnd().split('\n');
  lines[lines.length - 1] += fields ? c.dim(` ${fields}`) : '';
  return `${lines.map((l) => `${prefix}${l}`).join('\n')}\n`;
}

function prettyStream(options: CliLoggerOptions): { write(line: string): void } {
  const out = options.stream ?? process.stderr;
  const colorOn =
    options.color ?? ((out as NodeJS.WriteStream).isTTY === true && !process.env.NO_COLOR);
  const c = pc.createColors(colorOn);
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(formatPretty(rec, c, options.rewrite));
    },
  };
}

/**
 * The CLI's logger, level from `PYWORKERS_LOG` (default `info`): human lines on a terminal, pino
 * JSON lines otherwise (see {@link defaultLogFormat}); both carry the same fields.
 * @example const logger = createCliLogger('debug', { format: 'pretty' });
 */
export function createCliLogger(
  level = process.env.PYWORKERS_LOG ?? 'info',
  options: CliLoggerOptions = {},
): pino.Logger {
  const out = options.stream ?? process.stderr;
  const format = options.format ?? defaultLogFormat(out);
  if (format === 'pretty') return pino({ level, base: undefined }, prettyStream(options));
  const rewrite = options.rewrite;
  if (!rewrite && !options.stream) return pino({ level, base: undefined }, pino.destination(2));
  return pino(
    { level, base: undefined },
    {
      write(line: string) {
        if (!rewrite) {
          out.write(line);
          return;
        }
        const rec = JSON.parse(line) as Record<string, unknown>;
        const worker = typeof rec.worker === 'string' ? rec.worker : undefined;
        if (typeof rec.msg === 'string') rec.msg = rewrite(rec.msg, worker);
        out.write(`${JSON.stringify(rec)}\n`);
      },
    },
  );
}
