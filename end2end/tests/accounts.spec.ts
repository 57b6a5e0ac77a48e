import { type Browser, request as playwrightRequest } from '@playwright/test';
import { expect, test } from './fixtures/a11y';
import { SignInPage, UsersPage } from './fixtures/accounts';
import { Shell } from './fixtures/shell';

const adminPassword = process.env.NSBACKUP_E2E_ADMIN_PASSWORD ?? '';

/** A browser context that nobody has signed in to. */
async function anonymousPage(browser: Browser) {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  return { context, page: await context.newPage() };
}

test('an anonymous visitor is sent to sign in, and back to where they were going', async ({ browser }) => {
  const { context, page } = await anonymousPage(browser);
  const shell = new Shell(page);
  const errors = await shell.open('/explorer');
  await expect(page).toHaveURL(/\/signin\?next=\/explorer$/);
  await expect(shell.heading).toHaveText('Sign in to nsbackup');
  await expect(shell.nav).toHaveCount(0);
  await shell.waitForHydration();
  await shell.screenshot('sign-in');

  const signIn = new SignInPage(page);
  await expect(signIn.submit).toBeDisabled();
  await signIn.signIn('admin', 'not-the-password');
  await expect(signIn.problem).toHaveText(/The name or the password is wrong/);
  await expect(signIn.password).toHaveValue('');

  await signIn.signIn('admin', adminPassword);
  await expect(page).toHaveURL(/\/explorer$/);
  await expect(shell.heading).toHaveText('Explorer');
  await expect(page.locator('.user-name')).toContainText('admin');
  await expect(shell.navLink('Backup and Restore')).toBeVisible();

  await shell.waitForHydration();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto('/admin/users');
  await expect(page).toHaveURL(/\/signin\?next=\/admin\/users$/);
  expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
  await context.close();
});

test('a modeler cannot reach Backup and Restore, and changes their own password', async ({ page, browser }) => {
  const name = `mia-${Date.now() % 100000}`;
  const users = new UsersPage(page);
  await users.open();
  await new Shell(page).waitForHydration();
  await users.create(name, 'Modeler', 'first-password-1');
  await expect(users.row(name)).toContainText('Modeler');
  await new Shell(page).screenshot('users');

  const { context, page: modelerPage } = await anonymousPage(browser);
  const shell = new Shell(modelerPage);
  await shell.open('/signin');
  await shell.waitForHydration();
  await new SignInPage(modelerPage).signIn(name, 'first-password-1');
  await expect(shell.heading).toHaveText('Overview');
  await expect(shell.navLink('Explorer')).toBeVisible();
  await expect(modelerPage.getByText('Administration')).toHaveCount(0);
  await expect(shell.navLink('Backup and Restore')).toHaveCount(0);

  const response = await modelerPage.goto('/admin/backups');
  expect(response?.status()).toBe(403);
  await expect(shell.heading).toHaveText('Administrators only');
  await expect(modelerPage.getByText('Create New Backup')).toHaveCount(0);
  await shell.screenshot('modeler-refused');
  const users403 = await modelerPage.request.post('/api/list_users', { data: {} });
  expect(users403.status()).toBe(403);

  // Namespaces are the administrators' to create and delete.
  await shell.open('/explorer');
  await shell.waitForHydration();
  await expect(modelerPage.getByRole('button', { name: 'New namespace' })).toHaveCount(0);

  await shell.open('/account');
  await shell.waitForHydration();
  await modelerPage.getByLabel('Current password').fill('first-password-1');
  await modelerPage.getByLabel('New password', { exact: true }).fill('second-password-2');
  await modelerPage.getByLabel('Repeat the new password').fill('second-password-2');
  await modelerPage.getByRole('button', { name: 'Change password' }).click();
  await expect(modelerPage.getByText('Password changed.')).toBeVisible();
  await modelerPage.getByRole('button', { name: 'Sign out' }).click();
  await expect(modelerPage).toHaveURL(/\/signin$/);
  await shell.waitForHydration();
  await new SignInPage(modelerPage).signIn(name, 'second-password-2');
  await expect(shell.heading).toHaveText('Overview');
  await context.close();
});

test('the last administrator cannot be made a modeler, and the button says why', async ({ page }) => {
  const users = new UsersPage(page);
  await users.open();
  const makeModeler = users.row('admin').getByRole('button', { name: 'Make modeler' });
  const administrators = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Administrator', exact: true }) });

  await users.create('second-admin', 'Administrator', 'second-admin-password');
  await expect(makeModeler).toBeEnabled();
  await expect(makeModeler).not.toHaveAttribute('title', /.+/);

  await users.row('second-admin').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
  await expect(users.row('second-admin')).toHaveCount(0);
  // Alone again: the suite's own administrator is the only one so far.
  await expect(administrators).toHaveCount(1);
  await expect(makeModeler).toBeDisabled();
  await expect(makeModeler).toHaveAttribute('title', 'The last administrator stays one: make another user an administrator first');
});

test('the audit log lists sign-ins and user changes, newest first', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/admin/audit');
  await expect(shell.heading).toHaveText('Audit Log');
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toBeVisible();
  await expect(page.locator('table.audit')).toContainText('sign-in');
  await expect(page.locator('table.audit')).toContainText('first administrator, created at start-up');
  // The first administrator was created before anything else: it is the last row.
  await expect(rows.last()).toContainText('user create');
  await shell.screenshot('audit-log');
});

test('a user sees where they are signed in and signs out everywhere else', async ({ page, browser }) => {
  const name = `sam-${Date.now() % 100000}`;
  const users = new UsersPage(page);
  await users.open();
  await new Shell(page).waitForHydration();
  await users.create(name, 'Modeler', 'sessions-password-1');

  // Signed in in two browsers.
  const first = await anonymousPage(browser);
  const second = await anonymousPage(browser);
  for (const { page: p } of [first, second]) {
    const shell = new Shell(p);
    await shell.open('/signin');
    await shell.waitForHydration();
    await new SignInPage(p).signIn(name, 'sessions-password-1');
    await expect(shell.heading).toHaveText('Overview');
  }

  const shell = new Shell(first.page);
  const errors = await shell.open('/account');
  await shell.waitForHydration();
  const sessions = first.page.getByRole('region', { name: 'Your sessions' });
  const rows = sessions.locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: '(this session)' })).toHaveCount(1);
  await shell.screenshot('account-sessions');
  await sessions.getByRole('button', { name: 'End all other sessions' }).click();
  await expect(first.page.getByText('Session ended: that browser is signed out.')).toBeVisible();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('(this session)');
  await expect(sessions.getByRole('button', { name: 'End all other sessions' })).toBeDisabled();

  // The other browser is signed out; this one is not.
  await second.page.goto('/explorer');
  await expect(second.page).toHaveURL(/\/signin\?next=\/explorer$/);
  await first.page.goto('/explorer');
  await expect(new Shell(first.page).heading).toHaveText('Explorer');
  // No page broke the Content-Security-Policy (a refused script is a console error).
  expect(errors).toEqual([]);
  await first.context.close();
  await second.context.close();
});

test('the audit log is filtered by what happened and exported as CSV with the same filter', async ({ page }) => {
  const shell = new Shell(page);
  const errors = await shell.open('/admin/audit');
  await shell.waitForHydration();
  const filter = page.getByRole('search', { name: 'Filter the audit log' });
  await filter.getByLabel('What').fill('sign-in');
  await filter.getByLabel('Who').fill('admin');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/actor=admin/);
  await expect(page).toHaveURL(/action=sign-in/);
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toBeVisible();
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    await expect(rows.nth(i).locator('td').nth(1)).toHaveText('admin');
    await expect(rows.nth(i).locator('td').nth(2)).toHaveText('sign-in');
  }
  await expect(page.getByText(/entries match\./)).toBeVisible();
  await shell.screenshot('audit-log-filtered');

  const exportLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportLink).toHaveAttribute('href', '/api/audit.csv?actor=admin&action=sign-in');
  const download = page.waitForEvent('download');
  await exportLink.click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^audit-log_.*\.csv$/);
  const stream = await file.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const lines = Buffer.concat(chunks).toString('utf-8').trim().split('\r\n');
  expect(lines[0]).toBe('at,actor,action,target,outcome,detail');
  expect(lines.length - 1).toBe(count);
  expect(lines.slice(1).every((line) => line.split(',')[2] === 'sign-in')).toBe(true);

  await page.getByRole('link', { name: 'Clear' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByText(/entries in all\./)).toBeVisible();
  expect(errors).toEqual([]);
});

test('a password reset keeps the API tokens, unless the account may be in other hands', async ({ page, browser, baseURL }) => {
  // Two accounts, three sign-ins and two password hashings: slow work on a busy machine.
  test.setTimeout(90_000);
  const users = new UsersPage(page);
  await users.open();
  await users.create('taken-over', 'Administrator', 'taken-password-1');
  const { context, page: theirs } = await anonymousPage(browser);
  const theirShell = new Shell(theirs);
  await theirShell.open('/signin');
  await theirShell.waitForHydration();
  await new SignInPage(theirs).signIn('taken-over', 'taken-password-1');
  await expect(theirShell.heading).toHaveText('Overview');
  const made = await theirs.request.post('/api/create_token', { data: { name: 'Their script', days: 30 } });
  expect(made.status(), await made.text()).toBe(200);
  const { secret } = await made.json();
  const script = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  expect((await script.post('/api/list_backups', { data: {} })).status()).toBe(200);

  // A plain reset (a forgotten password): the sessions end, the script goes on working.
  const row = users.row('taken-over');
  await row.locator('input[type="password"]').fill('second-password-2');
  await row.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText('Password of taken-over changed; their sessions have ended', { exact: true })).toBeVisible();
  expect((await script.post('/api/list_backups', { data: {} })).status()).toBe(200);

  // A reset of an account in other hands: its tokens are revoked with it.
  await row.locator('input[type="password"]').fill('third-password-3');
  await row.getByLabel('Revoke API tokens').check();
  await row.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText('Password of taken-over changed; their sessions have ended and their API token was revoked')).toBeVisible();
  await expect(row.getByLabel('Revoke API tokens')).not.toBeChecked();
  const refused = await script.post('/api/list_backups', { data: {} });
  expect(refused.status()).toBe(401);
  expect(await refused.text()).toContain('was revoked on');
  await script.dispose();
  await context.close();
});
