// What production serves: run by `make test-release` against the release build (`make
// release`), never against the development build that the other specs use.
import http from 'node:http';
import zlib from 'node:zlib';
import { expect, test } from './fixtures/a11y';
import { Shell } from './fixtures/shell';

/**
 * The WebAssembly bundle's budget, as it travels to a browser that accepts brotli: what it
 * measures now (495 KiB) and a little room. The goal is 350 KiB; docs/benchmarks.md ("Bundle
 * size") says what the bundle is made of, what was tried and what is left to try.
 */
const WASM_BUDGET = 520 * 1024;

const YEAR = 'public, max-age=31536000, immutable';

type Sent = { status: number; headers: http.IncomingHttpHeaders; bytes: number; body: Buffer };

/** GETs `path` asking for `encoding`, and counts the body's bytes as sent (not decoded). */
function sent(path: string, encoding: string): Promise<Sent> {
  const url = new URL(path, process.env.NSBACKUP_URL);
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': encoding } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes: body.length, body });
        });
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The bundle's files as a page links them: `{ js, wasm, css }` → `/pkg/…`. */
async function bundle(html: string): Promise<Record<'js' | 'wasm' | 'css', string>> {
  const named = (ext: string) => html.match(new RegExp(`/pkg/nsbackup\\.[A-Za-z0-9_-]{22}\\.${ext}`))?.[0];
  const files = { js: named('js'), wasm: named('wasm'), css: named('css') };
  for (const [kind, path] of Object.entries(files)) {
    expect(path, `the page links the ${kind} file by its content hash`).toBeTruthy();
  }
  return files as Record<'js' | 'wasm' | 'css', string>;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

test('the bundle is named by its hash, sent precompressed and kept by browsers for a year', async ({ request }) => {
  const page = await request.get('/signin');
  const files = await bundle(await page.text());
  const sizes: string[] = [];
  for (const [kind, path] of Object.entries(files)) {
    const plain = await sent(path, 'identity');
    const br = await sent(path, 'br');
    const gzip = await sent(path, 'gzip');
    for (const [encoding, answer] of [['br', br], ['gzip', gzip]] as const) {
      expect(answer.status, `${path} as ${encoding}`).toBe(200);
      expect(answer.headers['content-encoding'], `${path} asked for as ${encoding}`).toBe(encoding);
      expect(answer.headers['cache-control'], `${path} is cached for a year`).toBe(YEAR);
      expect(answer.headers.vary ?? '', `${path} varies with Accept-Encoding`).toMatch(/accept-encoding/i);
      expect(answer.bytes, `${path} as ${encoding} is smaller than plain`).toBeLessThan(plain.bytes);
    }
    expect(plain.headers['content-encoding'], `${path} without compression`).toBeUndefined();
    expect(plain.headers['cache-control']).toBe(YEAR);
    sizes.push(`${kind} ${kib(plain.bytes)} (br ${kib(br.bytes)}, gzip ${kib(gzip.bytes)})`);
  }
  expect((await sent(files.wasm, 'identity')).headers['content-type']).toBe('application/wasm');
  console.log(`bundle: ${sizes.join('; ')}`);

  // A name that is not the build's is no file, and nothing tells a browser to keep that.
  const missing = await sent('/pkg/nsbackup.AAAAAAAAAAAAAAAAAAAAAA.wasm', 'br');
  expect(missing.status).toBe(404);
  expect(missing.headers['cache-control'] ?? '').not.toContain('immutable');
});

test('the WebAssembly bundle stays within its budget after brotli', async ({ request }) => {
  const files = await bundle(await (await request.get('/signin')).text());
  const wasm = await sent(files.wasm, 'br');
  expect(
    wasm.bytes,
    `The WebAssembly bundle is ${kib(wasm.bytes)} after brotli, over its budget of ${kib(WASM_BUDGET)}. ` +
      'Find what grew with scripts/wasm-sizes.py on the release build\'s frontend.wasm (docs/benchmarks.md, "Bundle size"), and remove the cause.',
  ).toBeLessThanOrEqual(WASM_BUDGET);
});

test('pages and JSON are compressed and checked with the server before reuse; downloads are sent as they are', async ({ request }) => {
  // A page as the browser asks for it: brotli when it may, gzip when only that.
  for (const [accepted, used] of [['gzip, deflate, br', 'br'], ['gzip', 'gzip']] as const) {
    const page = await sent('/signin', accepted);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-encoding'], `a page asked for with ${accepted}`).toBe(used);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers.vary ?? '').toMatch(/accept-encoding/i);
  }
  const plain = await sent('/signin', 'identity');
  expect(plain.headers['content-encoding']).toBeUndefined();
  // Compared with its own content: a streamed page compresses in the chunks it is sent in,
  // so its compressed size varies with how busy the server is.
  const compressed = await sent('/signin', 'br');
  const content = zlib.brotliDecompressSync(compressed.body);
  expect(content.toString('utf8')).toContain('<html');
  expect(compressed.bytes, 'a compressed page is smaller than its content').toBeLessThan(content.length * 0.75);

  const page = await request.get('/admin/backups', { headers: { 'accept-encoding': 'br' } });
  expect(page.status()).toBe(200);
  expect(page.headers()['content-encoding']).toBe('br');
  expect(page.headers()['cache-control']).toBe('no-cache');

  const document = await request.get('/api/v1/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
  expect(document.headers()['content-encoding']).toBe('gzip');
  expect(document.headers()['cache-control']).toBe('no-cache');
  expect((await document.json()).openapi).toMatch(/^3\.1/);

  const list = await request.post('/api/list_backup_page', {
    data: { search: '', offset: 0 },
    headers: { 'accept-encoding': 'br' },
  });
  expect(list.status()).toBe(200);
  expect(list.headers()['cache-control']).toBe('no-cache');

  // A download keeps its bytes as they are: the browser shows its size as it comes.
  const audit = await request.get('/api/audit.csv', { headers: { 'accept-encoding': 'br, gzip' } });
  expect(audit.status()).toBe(200);
  expect(audit.headers()['content-disposition']).toContain('attachment');
  expect(audit.headers()['content-encoding']).toBeUndefined();
});

/** What the browser fetched during one visit, as Chromium's network log tells it. */
type Visit = { bytes: number; bundle: { url: string; cached: boolean; status: number }[] };

async function visit(page: import('@playwright/test').Page, path: string, shell: Shell): Promise<Visit> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const seen = new Map<string, { url: string; cached: boolean; status: number }>();
  let bytes = 0;
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.requestServedFromCache', (e) => {
    const url = urls.get(e.requestId) ?? '';
    seen.set(e.requestId, { url, cached: true, status: 200 });
  });
  cdp.on('Network.responseReceived', (e) => {
    const cached = e.response.fromDiskCache || e.response.fromPrefetchCache || seen.get(e.requestId)?.cached || false;
    seen.set(e.requestId, { url: e.response.url, cached, status: e.response.status });
  });
  cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));
  await page.goto(path);
  await shell.waitForHydration();
  await cdp.detach();
  const bundle = [...seen.values()].filter((r) => new URL(r.url).pathname.startsWith('/pkg/'));
  return { bytes, bundle };
}

test('the release build hydrates, and a repeat visit fetches no part of the bundle again', async ({ page }) => {
  const shell = new Shell(page);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const first = await visit(page, '/admin/backups', shell);
  await page.getByRole('button', { name: 'Create New Backup' }).click();
  await expect(page.getByRole('button', { name: 'Start Backup' })).toBeVisible();
  expect(first.bundle.filter((r) => !r.cached).length, 'the first visit fetched the bundle').toBeGreaterThanOrEqual(3);

  const repeat = await visit(page, '/admin/backups', shell);
  expect(repeat.bundle.length, 'the repeat visit still uses the bundle').toBeGreaterThanOrEqual(3);
  expect(
    repeat.bundle.filter((r) => !r.cached || r.status === 304).map((r) => `${r.status} ${r.url}`),
    'no part of the bundle is fetched or revalidated again',
  ).toEqual([]);
  console.log(`transferred: first visit ${kib(first.bytes)}, repeat visit ${kib(repeat.bytes)}`);
  expect(errors).toEqual([]);
});
