import { defineConfig } from '@playwright/test';

// The server is started by scripts/e2e.sh (via `make test`), which passes its address.
const baseURL = process.env.NSBACKUP_URL;
if (!baseURL) {
  throw new Error('NSBACKUP_URL is not set: run the browser tests with `make test` or scripts/e2e.sh');
}

// `make test-release` runs the checks of the release build (release.spec.ts) against it;
// every other run leaves them out, as a development build is neither hashed nor compressed.
// `make bench` runs the page's benchmark (page.bench.ts, which no test run matches).
const release = process.env.NSBACKUP_RELEASE === '1';
const bench = process.env.NSBACKUP_BENCH === '1';
const selection = bench
  ? { testMatch: 'page.bench.ts' }
  : release
    ? { testMatch: 'release.spec.ts' }
    : { testIgnore: 'release.spec.ts' };

export default defineConfig({
  testDir: './tests',
  ...selection,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  // Signs in as the administrator once; every test starts signed in unless it says otherwise.
  globalSetup: './global-setup.ts',
  use: {
    baseURL,
    storageState: '.auth/admin.json',
    browserName: 'chromium',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // No transitions: the accessibility checks see colours as they settle, not halfway.
    contextOptions: { reducedMotion: 'reduce' },
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser of its own here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
