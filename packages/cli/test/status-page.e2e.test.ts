// The status page in a real browser (Debian's headless Chromium, driven by playwright-core)
// against `pyworkers serve`: it shows each worker, its numbers are the ones /__pyworkers/status
// serves, and a plot moves once requests are sent. Skips with a line where no browser exists,
// never under CI=true (.ci/run installs one).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, startCli } from './helpers/run-cli.js';

const CHROMIUM = process.env.PYWORKERS_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  if (process.env.CI === 'true')
    throw new Error(`CI=true but there is no browser at ${CHROMIUM}: .ci/run installs chromium`);
  process.stderr.write(
    `skipping the status page browser test: no Chromium at ${CHROMIUM} (apt-get install chromium)\n`,
  );
}

const FIELDS = [
  'requests',
  'coldStarts',
  'warmRatio',
  'p50Ms',
  'p99Ms',
  'isolates',
  'bytes',
  'evictions',
  'sheds',
  'errors',
  'requestsPerSecond',
] as const;

let root: string | undefined;
let server: CliProcess | undefined;
let context: BrowserContext | undefined;

afterAll(async () => {
  await context?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function until<V>(what: string, fn: () => Promise<V | undefined>, ms = 60_000): Promise<V> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${String(last ?? '')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Shown = Record<string, Record<string, string>>;

/** What the page-side callbacks use of a DOM element (this package has no DOM types). */
interface El {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  querySelector(selector: string): { toDataURL(): string } | null;
}

/** The workers table as the page shows it: each row's raw `data-value`s by field. */
function shownWorkers(page: Page): Promise<Shown> {
  return page.$$eval('#workers tbody tr', (rows) =>
    Object.fromEntries(
      (rows as unknown as El[]).map((tr) => [
        tr.getAttribute('data-worker') ?? '',
        Object.fromEntries(
          Array.from(tr.querySelectorAll('td[data-value]')).map((td) => [
            td.getAttribute('data-field') ?? '',
            td.getAttribute('data-value') ?? '',
          ]),
        ),
      ]),
    ),
  );
}

/** Sum of what the requests/s plot was given for each worker, and its canvas as an image. */
async function rpsPlot(page: Page): Promise<{ sums: Record<string, number>; image: string }> {
  return page.$eval('#plot-rps', (div) => {
    const d = div as unknown as El;
    return {
      sums: JSON.parse(d.getAttribute('data-sums') ?? '{}') as Record<string, number>,
      image: d.querySelector('canvas')?.toDataURL() ?? '',
    };
  });
}

describe.skipIf(!haveBrowser)('the status page in headless Chromium', () => {
  it('shows every worker with the numbers of /__pyworkers/status, and its plots move', async () => {
    root = mkdtempSync(join(tmpdir(), 'pyw-status-e2e-'));
    for (const name of ['alpha', 'beta'])
      expect((await runCli(['init', name], { cwd: root })).code).toBe(0);
    server = startCli(['serve', '--port', '0', '--json', 'alpha', 'beta'], { cwd: root });
    const { url } = await server.ready;
    for (const w of ['alpha', 'beta']) expect((await fetch(`${url}/${w}/`)).status).toBe(200);

    context = await chromium.launchPersistentContext(mkdtempSync(join(root, 'profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('pageerror', (e) => failed.push(e.message));
    await page.goto(`${url}/__pyworkers/`);

    // Each worker has its row.
    await page.waitForSelector('#workers tbody tr[data-worker="beta"]', { timeout: 30_000 });
    expect(Object.keys(await shownWorkers(page)).sort()).toEqual(['alpha', 'beta']);

    // A plot moves after requests: 25 to alpha show up in what the requests/s plot draws.
    const before = await until('the requests/s plot', async () => {
      const p = await rpsPlot(page);
      return p.image ? p : undefined;
    });
    for (let k = 0; k < 25; k++) expect((await fetch(`${url}/alpha/`)).status).toBe(200);
    const after = await until('the plot to take the 25 requests', async () => {
      const p = await rpsPlot(page);
      return (p.sums.alpha ?? 0) >= (before.sums.alpha ?? 0) + 25 ? p : undefined;
    });
    expect(after.image).not.toBe(before.image);

    // Once traffic stops, every number on the page equals the status JSON's.
    await until(
      'the page to show the numbers of /__pyworkers/status',
      async () => {
        const status = (await (await fetch(`${url}/__pyworkers/status`)).json()) as {
          workers: Record<string, unknown>[];
        };
        const shown = await shownWorkers(page);
        for (const w of status.workers) {
          const row = shown[String(w.worker)];
          if (!row) return undefined;
          for (const f of FIELDS) if (row[f] !== String(w[f] ?? '')) return undefined;
        }
        return true;
      },
      40_000,
    );
    const shown = await shownWorkers(page);
    expect(Number(shown.alpha!.requests)).toBeGreaterThanOrEqual(26);
    expect(Number(shown.alpha!.coldStarts)).toBeGreaterThanOrEqual(1);
    expect(Number(shown.alpha!.isolates)).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#hosts tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(failed).toEqual([]);

    if (process.env.PYWORKERS_SCREENSHOT)
      await page.screenshot({ path: process.env.PYWORKERS_SCREENSHOT, fullPage: true });
  });
});
