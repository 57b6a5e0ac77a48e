import { expect, test } from './fixtures/a11y';
import { Shell } from './fixtures/shell';

test('the server renders the shell as HTML before any script runs', async ({ request }) => {
  const response = await request.get('/');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('<title>Overview · nsbackup</title>');
  expect(html).toContain('nsbackup');
  expect(html).toMatch(/<a[^>]*href="\/explorer"[^>]*>Explorer</);
  expect(html).toContain('Administration');
  expect(html).toMatch(/<a[^>]*href="\/admin\/backups"[^>]*>Backup and Restore</);
  // Without the WASM the theme switch cannot work, so the server renders it disabled.
  const toggle = html.match(/<button[^>]*theme-toggle[^>]*>/)?.[0] ?? '';
  expect(toggle).toMatch(/\sdisabled[\s>=]/);
});

test('hydration makes the page interactive: the theme switch works and is remembered', async ({ page }) => {
  const shell = new Shell(page);
  const errors = await shell.open('/');
  await shell.waitForHydration();
  await shell.screenshot('overview');

  const before = await page.locator('html').getAttribute('data-theme');
  expect(before).toBe('light');
  await expect(shell.themeToggle).toHaveAttribute('aria-pressed', 'false');
  await shell.themeToggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(shell.themeToggle).toHaveAttribute('aria-pressed', 'true');
  await shell.screenshot('overview-dark');

  await page.reload();
  await shell.waitForHydration();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(shell.themeToggle).toHaveAttribute('aria-pressed', 'true');
  expect(errors).toEqual([]);
});

test('the overview shows that the server and its database are well', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/');
  await expect(shell.heading).toHaveText('Overview');
  const status = page.getByRole('region', { name: 'Server status' });
  await expect(status.getByText('Connected')).toBeVisible();
  const health = await (await page.request.get('/api/health')).json();
  await expect(status.locator('dd').nth(0)).toHaveText(health.version);
  await expect(status.locator('dd').nth(1)).toHaveText(String(health.schema_version));
});

test('the navigation leads to Explorer and to Administration → Backup and Restore', async ({ page }) => {
  const shell = new Shell(page);
  const errors = await shell.open('/');
  await shell.waitForHydration();

  await shell.navLink('Explorer').click();
  await expect(page).toHaveURL(/\/explorer$/);
  await expect(shell.heading).toHaveText('Explorer');
  await expect(shell.navLink('Explorer')).toHaveAttribute('aria-current', 'page');
  await expect(page).toHaveTitle('Explorer · nsbackup');

  await expect(shell.nav.getByText('Administration')).toBeVisible();
  await shell.navLink('Backup and Restore').click();
  await expect(page).toHaveURL(/\/admin\/backups$/);
  await expect(shell.heading).toHaveText('Backup and Restore');
  await expect(shell.navLink('Backup and Restore')).toHaveAttribute('aria-current', 'page');
  await shell.screenshot('backup-and-restore');
  expect(errors).toEqual([]);
});

test('an unknown address shows a page that says so, with status 404', async ({ page }) => {
  const shell = new Shell(page);
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(shell.heading).toHaveText('Page not found');
  await page.getByRole('link', { name: 'Go to the overview' }).click();
  await expect(shell.heading).toHaveText('Overview');
});

test('the health endpoint reports the versions and a working database', async ({ request }) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe('ok');
  expect(body.database_ok).toBe(true);
  expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(body.schema_version).toBeGreaterThanOrEqual(1);
  expect(body.database_schema_version).toBe(body.schema_version);
});
