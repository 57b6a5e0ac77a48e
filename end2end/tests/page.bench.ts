// `make bench` (the page's part): the Backup and Restore page with 1,000 backups listed, on
// the release build. It reports, and asserts nothing about time:
//
// - the server's render time of the page, p50 and p95 over 200 requests (request to last
//   byte, on this machine, so the network adds nothing);
// - the bytes a browser transfers on a first visit and on a repeat visit;
// - the time from navigation until "Create New Backup" reacts (opens its dialog with the
//   Start Backup button), under Chromium's network throttling at 10 Mbit/s and 20 ms.
//
// It prints a Markdown table; docs/benchmarks.md keeps the last one.
import { performance } from 'node:perf_hooks';
import { expect, test } from '@playwright/test';

const BACKUPS = 1000;
const RENDERS = 200;
const MBIT = (1000 * 1000) / 8;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (value: number) => `${value.toFixed(1)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

test('the Backup and Restore page with 1,000 backups', async ({ page, browser }) => {
  test.setTimeout(1_200_000);
  const request = page.request;
  // Four namespaces, each backed up one backup at a time (a namespace runs one at a time).
  const total = async () =>
    (await (await request.post('/api/list_backup_page', { data: { search: '', offset: 0 } })).json()).total as number;
  const lanes = [0, 1, 2, 3].map((lane) => `bench-page-${lane}`);
  for (const name of lanes) await request.post('/api/create_namespace', { data: { name, title: 'Page bench' } });
  const missing = BACKUPS - (await total());
  await Promise.all(
    lanes.map(async (namespace, lane) => {
      for (let i = lane; i < missing; i += lanes.length) {
        const started = await request.post('/api/v1/backups', {
          data: { namespace, name: `Nightly ${String(i + 1).padStart(4, '0')}` },
        });
        expect(started.status(), await started.text()).toBe(202);
        const job = (await started.json()).job.id;
        await expect
          .poll(async () => (await (await request.get(`/api/v1/jobs/${job}`)).json()).status, {
            timeout: 60_000,
            intervals: [20],
          })
          .toBe('succeeded');
      }
    }),
  );
  const listed = await total();
  expect(listed).toBeGreaterThanOrEqual(BACKUPS);

  // Server render: the whole HTML of the page, as a browser asks for it.
  const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const url = new URL('/admin/backups', process.env.NSBACKUP_URL).toString();
  const times: number[] = [];
  for (let i = 0; i < RENDERS + 10; i++) {
    const start = performance.now();
    const answer = await fetch(url, { headers: { cookie: cookies, 'accept-encoding': 'identity' } });
    const html = await answer.text();
    const took = performance.now() - start;
    expect(answer.status).toBe(200);
    expect(html).toContain('Nightly');
    if (i >= 10) times.push(took); // the first ten warm the caches
  }
  times.sort((a, b) => a - b);

  // A first and a repeat visit, throttled, in a context with an empty cache.
  const context = await browser.newContext({ storageState: await page.context().storageState() });
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: 10 * MBIT,
    uploadThroughput: 10 * MBIT,
  });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));

  const visit = async () => {
    bytes = 0;
    const start = performance.now();
    await tab.goto('/admin/backups', { waitUntil: 'commit' });
    const create = tab.getByRole('button', { name: 'Create New Backup' });
    const startBackup = tab
      .getByRole('region', { name: 'Select Namespace', exact: true })
      .getByRole('button', { name: 'Start Backup' });
    // Before hydration the button is inert HTML: click it until it says it opened its
    // section (a click after that would close it again), then wait for the section.
    while ((await create.getAttribute('aria-expanded', { timeout: 60_000 })) !== 'true') {
      await create.click({ timeout: 60_000 });
      await startBackup.waitFor({ state: 'visible', timeout: 25 }).catch(() => undefined);
    }
    await startBackup.waitFor({ state: 'visible', timeout: 60_000 });
    const reacts = performance.now() - start;
    await tab.waitForLoadState('networkidle');
    return { reacts, bytes };
  };
  const first = await visit();
  const repeat = await visit();
  await context.close();

  console.log(
    [
      '',
      `| backups | render p50 | render p95 | first visit | repeat visit | reacts, first (10 Mbit/s) | reacts, repeat |`,
      '|---:|---:|---:|---:|---:|---:|---:|',
      `| ${listed} | ${ms(quantile(times, 0.5))} | ${ms(quantile(times, 0.95))} | ${kib(first.bytes)} | ${kib(repeat.bytes)} | ${ms(first.reacts)} | ${ms(repeat.reacts)} |`,
      '',
    ].join('\n'),
  );
});
