import { request as playwrightRequest } from '@playwright/test';
import { expect, expectFocusInSight, test } from './fixtures/a11y';
import { Shell } from './fixtures/shell';

test('an administrator makes an API token, a script uses it, and once revoked it is refused', async ({ page, baseURL }) => {
  const shell = new Shell(page);
  await shell.open('/admin/tokens');
  await shell.waitForHydration();
  await expect(shell.heading).toHaveText('API tokens');
  const form = page.getByRole('region', { name: 'New token' });
  const create = form.getByRole('button', { name: 'Create Token' });
  await expect(create).toBeDisabled();
  await form.getByLabel('Name').fill('Browser test script');
  await expect(create).toBeEnabled();
  // No expiry is allowed, with a warning.
  await form.getByLabel('Expires after').selectOption({ label: 'Never (until revoked)' });
  await expect(form).toContainText('works until someone revokes it');
  await form.getByLabel('Expires after').selectOption({ label: '30 days' });
  await create.click();

  const shown = page.locator('.token-secret');
  await expect(shown).toContainText('Token \u201cBrowser test script\u201d created. Copy it now: it is not shown again.');
  const secret = (await shown.locator('code.secret').textContent()) ?? '';
  expect(secret).toMatch(/^nsb_[0-9a-f]{64}$/);
  await shell.screenshot('api-tokens');
  const row = page.locator('tr.token-row', { hasText: 'Browser test script' });
  const lastUsed = row.locator('td').nth(3);
  await expect(lastUsed).toHaveText('never');

  // A script: no cookie, only the token.
  const script = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  const listed = await script.post('/api/list_backups', { data: {} });
  expect(listed.status()).toBe(200);
  // Its use shows in the list.
  await page.reload();
  await expect(lastUsed.locator('time')).toBeVisible();

  await row.getByRole('button', { name: 'Revoke token Browser test script' }).click();
  await shell.expectAccessibleDialog();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('Token Browser test script revoked')).toBeVisible();
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('button', { name: /Revoke/ })).toHaveCount(0);
  const refused = await script.post('/api/list_backups', { data: {} });
  expect(refused.status()).toBe(401);
  expect(await refused.text()).toContain('was revoked on');
  await script.dispose();
  // The secret is shown once: not after a reload.
  await page.reload();
  await expect(page.locator('.token-secret')).toHaveCount(0);
});

test('a token is made and revoked from the keyboard alone, the focus always in sight', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/admin/tokens');
  await shell.waitForHydration();
  const form = page.getByRole('region', { name: 'New token' });
  await form.getByLabel('Name').focus();
  await page.keyboard.type('Keyboard script');
  await page.keyboard.press('Tab');
  await expectFocusInSight(form.getByLabel('Expires after'));
  await page.keyboard.press('Tab');
  await expectFocusInSight(form.getByRole('button', { name: 'Create Token' }));
  await page.keyboard.press('Enter');
  await expect(page.locator('.token-secret')).toContainText('Token \u201cKeyboard script\u201d created.');

  const revoke = page.locator('tr.token-row', { hasText: 'Keyboard script' }).getByRole('button', { name: 'Revoke token Keyboard script' });
  await revoke.focus();
  await expectFocusInSight(revoke);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await expectFocusInSight(dialog.getByRole('button', { name: 'Cancel' }));
  await page.keyboard.press('Tab');
  await expectFocusInSight(dialog.getByRole('button', { name: 'Revoke' }));
  await page.keyboard.press('Enter');
  await expect(page.getByText('Token Keyboard script revoked')).toBeVisible();
  await expect(page.locator('tr.token-row', { hasText: 'Keyboard script' })).toContainText('revoked');
});
