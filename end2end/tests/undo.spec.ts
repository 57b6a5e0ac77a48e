import * as fs from 'node:fs';
import { type Page } from '@playwright/test';
import { expect, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';
import { Explorer } from './fixtures/explorer';

/** The names of the top-level items of `namespace`, sorted. */
async function items(page: Page, namespace: string): Promise<string[]> {
  const answer = await page.request.post('/api/list_items', { data: { namespace, folder: null } });
  const list = (await answer.json()) as Array<{ name: string }>;
  return list.map((item) => item.name).sort();
}

test('a restore is undone from its notice, exactly, and an undo after an edit says first what it discards', async ({ page }) => {
  test.setTimeout(90_000);
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace('un-do', 'Undo');
  await explorer.createItem('Service', 'Billing');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('un-do', 'Undo base');
  // After the backup: an item the restore will remove.
  await explorer.open('/explorer/un-do');
  await explorer.createItem('Service', 'Added later');
  expect(await items(page, 'un-do')).toEqual(['Added later', 'Billing']);

  await backups.open();
  await backups.restore('Undo base', 'un-do');
  await expect(page.getByText(/Backup Undo base restored into namespace un-do/)).toBeVisible({ timeout: 30_000 });
  expect(await items(page, 'un-do')).toEqual(['Billing']);

  // Undo from the notice of the finished restore.
  await page.getByRole('button', { name: 'Undo Restore' }).click();
  const dialog = page.getByRole('dialog', { name: 'Switch namespace un-do back?' });
  await expect(dialog).toContainText('Nothing was changed in it since then.');
  await expect(dialog).toContainText('(2 items)');
  await dialog.getByRole('button', { name: 'Switch Back' }).click();
  await expect(page.getByText(/Namespace un-do switched back/)).toBeVisible();
  await expect.poll(() => items(page, 'un-do')).toEqual(['Added later', 'Billing']);
  const points = page.getByRole('region', { name: 'Restore Points' });
  const undone = points.locator('tr.point-row', { hasText: 'undo by admin' });
  await expect(undone).toBeVisible();
  await expect(undone).toContainText('1 item,');
  await points.screenshot({ path: 'screenshots/restore-points.png' });
  // The history shows the undo under the restore, each with its report.
  const history = page.getByRole('region', { name: 'Restore History' });
  const undoRow = history.locator('tr.history-row', { hasText: 'switch back to the content of' }).first();
  await expect(undoRow).toContainText('un-do');
  await expect(undoRow).toContainText('1 item(s) added, 0 removed, 0 changed, 1 as they were');
  const restoreRow = history
    .locator('tr.history-row')
    .filter({ has: page.locator('td', { hasText: /^restore of backup \u201cUndo base\u201d$/ }) })
    .first();
  await expect(restoreRow).toContainText('0 item(s) added, 1 removed');
  const downloading = page.waitForEvent('download');
  await undoRow.getByRole('link', { name: /^Download the report: switch back/ }).click();
  const report = JSON.parse(fs.readFileSync(await (await downloading).path(), 'utf8'));
  expect(report.items.added_names).toEqual(['Added later']);
  expect(report.namespace).toBe('un-do');
  // The audit log's entry of the undo links to the same report.
  await page.goto('/admin/audit');
  const entry = page.locator('table.audit tbody tr', { hasText: 'switched back to the content of' }).first();
  await expect(entry).toContainText('un-do');
  const fromAudit = page.waitForEvent('download');
  await entry.getByRole('link', { name: 'download' }).click();
  const audited = JSON.parse(fs.readFileSync(await (await fromAudit).path(), 'utf8'));
  expect(audited.items.added_names).toEqual(['Added later']);
  await backups.open();

  // Switch back to the restored content (the undo undone), edit, then undo again: the
  // confirmation says what the edit loses; cancelled, nothing changes.
  await undone.getByRole('button', { name: 'Switch un-do back to this content' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Switch Back' }).click();
  // The first switch's notification may still show: wait for the namespace itself.
  await expect.poll(() => items(page, 'un-do')).toEqual(['Billing']);
  await explorer.open('/explorer/un-do');
  await explorer.createItem('Form', 'Edited after');
  await backups.open();
  const latest = points.locator('tr.point-row', { hasText: 'un-do' }).first();
  await latest.getByRole('button', { name: 'Switch un-do back to this content' }).click();
  const asking = page.getByRole('dialog', { name: 'Switch namespace un-do back?' });
  await expect(asking).toContainText('1 item(s) created or changed since then are discarded.');
  await backups.shell.screenshot('undo-confirm');
  await asking.getByRole('button', { name: 'Cancel' }).click();
  await expect(asking).toBeHidden();
  expect(await items(page, 'un-do')).toEqual(['Billing', 'Edited after']);
});
