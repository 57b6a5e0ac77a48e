import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures/a11y';
import { Explorer, importFile } from './fixtures/explorer';

function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}`;
}

test('a folder is exported to a file and imported into another namespace, then again as a copy', async ({ page }) => {
  const explorer = new Explorer(page);
  const errors = await explorer.open();
  const source = unique('export-src');
  await explorer.createNamespace(source);
  await explorer.createFolder('Processes');
  await explorer.openFolder('Processes');
  await explorer.createItem('Service', 'Order service');
  await explorer.editor().fill('{"steps": ["receive", "ship"]}');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(explorer.toast('Order service saved (revision 2)')).toBeVisible();
  await page.getByRole('button', { name: /← Processes/ }).click();

  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export folder' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('Processes.export.json');
  const path = await download.path();
  const file = JSON.parse(await readFile(path, 'utf8'));
  expect(file.format).toBe('nsbackup-export');
  expect(file.namespace).toBe(source);
  expect(file.schema_version).toBeGreaterThanOrEqual(2);

  const target = unique('export-dst');
  await explorer.createNamespace(target);
  await importFile(page, path);
  await expect(explorer.toast('Imported Processes (1 folder, 1 item)')).toBeVisible();
  await explorer.openFolder('Processes');
  await page.getByRole('link', { name: 'Order service' }).click();
  await expect(explorer.editor()).toHaveValue('{"steps": ["receive", "ship"]}');

  // The same file again at the top level: a clash, shown with a choice, nothing overwritten.
  await page.getByRole('button', { name: `${target} (top level)` }).click();
  await importFile(page, path);
  const notice = page.getByRole('alert').filter({ hasText: '`Processes` exists in this folder already' });
  await expect(notice).toBeVisible();
  await explorer.shell.screenshot('explorer-import-clash');
  await notice.getByRole('button', { name: 'Import as a copy' }).click();
  await expect(explorer.toast('Imported Processes (2) (1 folder, 1 item)')).toBeVisible();
  await expect(explorer.tree.getByRole('button', { name: 'Processes (2)' })).toBeVisible();
  await expect(explorer.tree.getByRole('button', { name: 'Processes', exact: true })).toBeVisible();
  expect(errors.filter((e) => !e.includes('409'))).toEqual([]);
});

test('an item is exported under its own name and imported into another folder', async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace(unique('export-item'));
  await explorer.createItem('Form', 'Intake form');
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export item' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('Intake form.export.json');
  const file = JSON.parse(await readFile(await download.path(), 'utf8'));
  expect(file.items.map((i: { name: string }) => i.name)).toEqual(['Intake form']);

  await page.getByRole('button', { name: /← Top level/ }).click();
  await explorer.createFolder('Copies');
  await explorer.openFolder('Copies');
  await importFile(page, await download.path());
  await expect(explorer.toast('Imported Intake form (0 folders, 1 item)')).toBeVisible();
  await expect(page.getByRole('row', { name: /Intake form/ })).toContainText('Form');
});

test('a file that is not an export is refused with the reason and imports nothing', async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace(unique('import-bad'));
  await importFile(page, { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('hello, world') });
  await expect(explorer.toast(/This file is not an nsbackup export: it is not JSON/)).toBeVisible();
  await expect(explorer.tree.getByRole('listitem')).toHaveCount(0);
});
