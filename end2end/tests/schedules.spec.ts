import { expect, expectFocusInSight, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';
import { Explorer } from './fixtures/explorer';

test('a schedule set in its dialog backs up by itself, its policy prunes, and a pinned backup survives', async ({ page }) => {
  // Runs every six seconds: the policy has deleted two after about forty.
  test.setTimeout(120_000);
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace('sch-auto', 'Scheduled');
  await explorer.createFolder('Processes');
  const backups = new BackupsPage(page);
  await backups.open();
  const schedules = page.getByRole('region', { name: 'Schedules' });
  await expect(schedules).toContainText('No namespace has a schedule yet.');

  await schedules.getByRole('button', { name: 'Add Schedule' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Schedule' });
  const save = dialog.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();
  await dialog.getByLabel('Namespace').selectOption('sch-auto');
  // A preset shows its next five runs.
  await dialog.getByLabel('Runs').selectOption('day');
  await dialog.getByLabel('Time', { exact: true }).fill('03:15');
  await expect(dialog.locator('.next-runs li')).toHaveCount(5);
  await expect(save).toBeEnabled();
  // An expression that does not parse is refused as it is typed, and Save stays off.
  await dialog.getByLabel('Runs').selectOption('cron');
  await dialog.getByLabel('Cron expression').fill('0 25 * * *');
  await expect(dialog.getByRole('alert')).toContainText('not a cron expression');
  await expect(save).toBeDisabled();
  // Every six seconds (seconds first), keeping the last three.
  await dialog.getByLabel('Cron expression').fill('*/6 * * * * *');
  await dialog.getByLabel('Keep last').fill('3');
  await expect(dialog.locator('.next-runs li')).toHaveCount(5);
  await expect(save).toBeEnabled();
  await backups.shell.screenshot('schedule-dialog');
  await save.click();
  await expect(page.getByText('Schedule of sch-auto saved')).toBeVisible();
  const row = schedules.locator('tr.schedule-row', { hasText: 'sch-auto' });
  await expect(row).toContainText('keep the last 3');

  // The schedule's first backup appears by itself; pin it.
  const made = backups.rows().filter({ hasText: '(scheduled)' }).filter({ hasText: 'sch-auto' });
  await expect(made.first()).toBeVisible({ timeout: 30_000 });
  const pinnedRow = made.last();
  const href = await pinnedRow.getByRole('link', { name: /^Download backup/ }).getAttribute('href');
  expect(href).toBeTruthy();
  await pinnedRow.getByRole('button', { name: /^Keep backup .* forever$/ }).click();
  await expect(page.getByText(/pinned: no retention policy deletes it/)).toBeVisible();
  const pinned = backups.rows().filter({ has: page.locator(`a[href="${href}"]`) });
  await expect(pinned.getByRole('button', { name: /^Keep backup/ })).toHaveAttribute('aria-pressed', 'true');

  // Runs go on and the policy deletes the older ones (the audit log names the rule); the
  // pinned backup stays.
  await expect(async () => {
    const answer = await page.request.post('/api/list_audit', { data: { before: null, limit: 200 } });
    const log = (await answer.json()) as { entries: Array<{ actor: string; target: string; detail: string }> };
    const pruned = log.entries.filter((e) => e.actor === '(retention)' && e.target === 'sch-auto');
    expect(pruned.length).toBeGreaterThanOrEqual(2);
    expect(pruned[0].detail).toContain('keep the last 3');
  }).toPass({ timeout: 60_000 });
  await expect(pinned).toBeVisible();
  await expect(pinned).toContainText('pinned');
  await expect(row).toContainText('Succeeded');
  await schedules.screenshot({ path: 'screenshots/schedules.png' });

  // Paused, it says so and runs no more.
  await row.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByText('Schedule of sch-auto paused')).toBeVisible();
  await expect(row).toContainText('Paused');
  await expect(row.getByRole('button', { name: 'Resume' })).toBeVisible();
});

test('a schedule is added, edited and removed from the keyboard alone, the focus kept in its dialog and in sight', async ({ page }) => {
  const made = await page.request.post('/api/create_namespace', { data: { name: 'sch-keys', title: '' } });
  expect(made.ok(), await made.text()).toBe(true);
  const backups = new BackupsPage(page);
  await backups.open();
  const schedules = page.getByRole('region', { name: 'Schedules' });
  const add = schedules.getByRole('button', { name: 'Add Schedule' });
  await add.focus();
  await page.keyboard.press('Enter');

  // The focus moves onto the dialog's first field, and Tab goes round inside the dialog.
  const dialog = page.getByRole('dialog', { name: 'Add Schedule' });
  const namespace = dialog.getByLabel('Namespace');
  await expectFocusInSight(namespace);
  await page.keyboard.press('Shift+Tab');
  await expectFocusInSight(dialog.getByRole('button', { name: 'Cancel' }));
  await page.keyboard.press('Tab');
  await expectFocusInSight(namespace);
  // Escape closes it and gives the focus back to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expectFocusInSight(add);

  await page.keyboard.press('Enter');
  await expectFocusInSight(namespace);
  await page.keyboard.type('sch-keys');
  await expect(namespace).toHaveValue('sch-keys');
  await page.keyboard.press('Tab');
  await expectFocusInSight(dialog.getByLabel('Runs'));
  await page.keyboard.type('Every hour');
  await expect(dialog.getByLabel('Runs')).toHaveValue('hour');
  const save = dialog.getByRole('button', { name: 'Save' });
  await expect(save).toBeEnabled();
  // Save is the dialog's last stop now: Shift+Tab from the first field reaches it.
  await namespace.focus();
  await page.keyboard.press('Shift+Tab');
  await expectFocusInSight(save);
  await page.keyboard.press('Enter');
  await expect(page.getByText('Schedule of sch-keys saved')).toBeVisible();
  await expect(dialog).toBeHidden();
  await expectFocusInSight(add);
  const row = schedules.locator('tr.schedule-row', { hasText: 'sch-keys' });
  await expect(row).toContainText('0 * * * *');

  // Editing starts on the first field that can change (the namespace cannot).
  const edit = row.getByRole('button', { name: 'Edit the schedule of sch-keys' });
  await edit.focus();
  await page.keyboard.press('Enter');
  const editor = page.getByRole('dialog', { name: 'Edit Schedule' });
  await expectFocusInSight(editor.getByLabel('Runs'));
  await page.keyboard.press('Escape');
  await expect(editor).toBeHidden();
  await expectFocusInSight(edit);

  // Removed after its confirmation, which starts on Cancel.
  const remove = row.getByRole('button', { name: 'Remove' });
  await remove.focus();
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('dialog', { name: 'Remove the schedule of sch-keys?' });
  await expectFocusInSight(confirm.getByRole('button', { name: 'Cancel' }));
  await page.keyboard.press('Tab');
  await expectFocusInSight(confirm.getByRole('button', { name: 'Remove' }));
  await page.keyboard.press('Enter');
  await expect(row).toHaveCount(0);
});
