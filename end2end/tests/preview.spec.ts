import * as fs from 'node:fs';
import { expect, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';

test('before a restore the page says what it will do: counts, names, edits it discards, and permissions naming missing users', async ({ page }) => {
  const api = async (name: string, data: object) => {
    const answer = await page.request.post(`/api/${name}`, { data });
    expect(answer.status(), `${name}: ${await answer.text()}`).toBe(200);
    return answer.json();
  };
  // A namespace whose folder grants a user that is then deleted, with two items.
  await page.goto('/');
  await api('create_namespace', { name: 'pv-ns', title: 'Preview' });
  const shared = await api('create_folder', { namespace: 'pv-ns', parent: null, name: 'Shared' });
  await api('create_user', { name: 'pv-temp', role: 'modeler', password: 'a long enough password' });
  await api('set_folder_permissions', {
    namespace: 'pv-ns',
    id: shared.id,
    permissions: [{ principal: { kind: 'user', name: 'pv-temp' }, access: 'write' }],
  });
  await api('create_item', { namespace: 'pv-ns', folder: null, kind: 'service', name: 'Billing' });
  const orders = await api('create_item', { namespace: 'pv-ns', folder: null, kind: 'form', name: 'Orders' });
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('pv-ns', 'Preview base');
  // After the backup: the user goes, an item goes, an item comes.
  await api('delete_user', { name: 'pv-temp' });
  await api('delete_item', { namespace: 'pv-ns', id: orders.id });
  await api('create_item', { namespace: 'pv-ns', folder: null, kind: 'model', name: 'Added since' });

  await backups.row('Preview base').click();
  const section = backups.section('Select Namespace');
  await section.getByRole('radio', { name: /^pv-ns( —|$)/ }).check();
  const preview = section.locator('.restore-preview');
  await expect(preview.getByRole('heading', { name: 'What this restore does' })).toBeVisible();
  await expect(preview).toContainText('Folders: 0 added, 0 removed, 0 changed, 1 as they are');
  await expect(preview).toContainText('Items: 1 added, 1 removed, 0 changed, 1 as they are');
  await preview.getByText('Added: 1').click();
  await expect(preview).toContainText('Orders');
  await preview.getByText('Removed: 1').click();
  await expect(preview).toContainText('Added since');
  await expect(preview).toContainText('1 item(s) changed since this backup; the restore discards those changes.');
  await expect(preview).toContainText('name users or roles this installation does not have: user pv-temp');
  await backups.shell.screenshot('restore-preview');

  // Into a new namespace, everything is added.
  await section.getByLabel('Or into a new namespace').fill('pv-copy');
  await expect(preview).toContainText('Namespace pv-copy is created.');
  await expect(preview).toContainText('Items: 2 added, 0 removed, 0 changed, 0 as they are');

  // Restored into its own namespace, the report says what the preview said, and downloads.
  await section.getByLabel('Or into a new namespace').fill('');
  await section.getByRole('radio', { name: /^pv-ns( —|$)/ }).check();
  await expect(preview).toContainText('Items: 1 added, 1 removed, 0 changed, 1 as they are');
  await section.getByRole('button', { name: 'Restore', exact: true }).click();
  await backups.dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  const notice = page.locator('.notice', { hasText: 'Namespace pv-ns was restored' });
  await expect(notice).toContainText('Report: 1 item(s) added, 1 removed, 0 changed, 1 as they were', { timeout: 30_000 });
  await expect(notice).toContainText('user pv-temp');
  await expect(notice).toContainText('1 item(s) created or changed in the namespace since the backup were discarded.');
  const downloading = page.waitForEvent('download');
  await notice.getByRole('link', { name: 'Download the report' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^restore-report_pv-ns_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.json$/);
  const report = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  expect(report.items.added_names).toEqual(['Orders']);
  expect(report.items.removed_names).toEqual(['Added since']);
  expect(report.started_by).toBe('admin');
});

test('a preview that takes a while shows how far it is, and choosing another namespace meanwhile answers for that one', async ({ page }) => {
  const api = async (name: string, data: object) => {
    const answer = await page.request.post(`/api/${name}`, { data });
    expect(answer.status(), `${name}: ${await answer.text()}`).toBe(200);
    return answer.json();
  };
  // The server holds every preview into namespace pv-slow once it has read the namespace.
  await page.goto('/');
  await api('create_namespace', { name: 'pv-slow', title: 'Slow preview' });
  for (const name of ['One', 'Two', 'Three']) {
    await api('create_item', { namespace: 'pv-slow', folder: null, kind: 'service', name });
  }
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('pv-slow', 'Slow base');
  await backups.row('Slow base').click();
  const section = backups.section('Select Namespace');
  await section.getByRole('radio', { name: /^pv-slow( —|$)/ }).check();
  const preview = section.locator('.restore-preview');
  // Three items in the backup and three in the namespace, all read.
  await expect(preview.getByRole('status')).toHaveText('Working out what this restore does… 6 of 6 items compared');
  await expect(preview.getByRole('progressbar', { name: 'Restore preview' })).toBeVisible();
  await expect(preview.getByRole('heading', { name: 'What this restore does' })).toHaveCount(0);

  await section.getByLabel('Or into a new namespace').fill('pv-slow-copy');
  await expect(preview).toContainText('Namespace pv-slow-copy is created.');
  await expect(preview).toContainText('Items: 3 added, 0 removed, 0 changed, 0 as they are');
  await expect(preview.getByRole('progressbar')).toHaveCount(0);
});
