import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, expectFocusInSight, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';
import { Explorer } from './fixtures/explorer';

const files = path.join(__dirname, 'files');

/** A namespace with one folder and one service, made in the explorer. */
async function namespaceWithContent(explorer: Explorer, name: string): Promise<void> {
  await explorer.open();
  await explorer.createNamespace(name, `Backups ${name}`);
  await explorer.createFolder('Processes');
  await explorer.createItem('Service', 'Billing');
}

test('a backup is created after confirmation, with its notifications, and listed newest first', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-create');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.shell.screenshot('backups-empty-or-list');

  await backups.createButton.click();
  const section = backups.section('Select Namespace');
  const start = section.getByRole('button', { name: 'Start Backup' });
  await expect(start).toBeDisabled();
  await section.getByLabel('Name').fill('   ');
  await expect(start).toBeDisabled();
  await section.getByRole('radio', { name: /^bk-create/ }).check();
  await expect(start).toBeDisabled();
  await section.getByLabel('Name').fill('First');
  await expect(start).toBeEnabled();
  await section.getByLabel('Name').fill('');
  await expect(start).toBeDisabled();
  await section.getByLabel('Name').fill('First');
  await start.click();
  await expect(backups.dialog).toContainText('bk-create');
  await backups.shell.screenshot('backups-confirm-create');
  // The page follows the job through its live events, not by asking again and again.
  const asked: string[] = [];
  page.on('request', (request) => asked.push(new URL(request.url()).pathname));
  await backups.dialog.getByRole('button', { name: 'Start Backup' }).click();
  await expect(page.getByText('Backup process started')).toBeVisible();
  // The product page's words, each as written, the progress beside them; meanwhile the
  // form cannot start the same backup again.
  await expect(page.locator('.toast-detail').filter({ hasText: /^Creating backup\.\.\.$/ })).toBeVisible();
  await expect(page.getByText('Backup process finished successfully')).toBeVisible({ timeout: 30_000 });
  // The form did its work: it closes, so that one more click makes no duplicate.
  await expect(backups.createButton).toHaveAttribute('aria-expanded', 'false');
  await expect(section).toBeHidden();
  await expect(backups.row('First').getByText('Completed')).toBeVisible();
  expect(asked.filter((p) => /^\/api\/v1\/jobs\/[0-9a-f]+\/events$/.test(p))).toHaveLength(1);
  expect(asked.filter((p) => p === '/api/get_job').length, 'asked for the job once, at its end').toBeLessThanOrEqual(1);

  await backups.create('bk-create', 'Second');
  const names = await backups.rows().locator('td:first-child').allInnerTexts();
  expect(names.indexOf('Second')).toBeLessThan(names.indexOf('First'));
  await expect(backups.list.getByRole('columnheader')).toHaveText(['Name', 'Namespace', 'Creation Date', 'Status', 'Size', 'Actions']);
  await backups.shell.screenshot('backups-list');

  // The list stays as it is after a reload.
  await page.reload();
  await expect(backups.row('First')).toBeVisible();
  await expect(backups.row('Second')).toBeVisible();
});

test('a backup downloads as <name>_<timestamp>.zip with a manifest that names its namespace', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-download');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('bk-download', 'Download me');
  const downloading = page.waitForEvent('download');
  await backups.row('Download me').getByRole('link', { name: 'Download backup Download me' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^Download me_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.zip$/);
  const saved = path.join(test.info().outputDir, download.suggestedFilename());
  await download.saveAs(saved);
  const bytes = fs.readFileSync(saved);
  expect(bytes.subarray(0, 4).toString('binary')).toBe('PK\x03\x04');
  // The manifest is the first entry; its name and JSON follow the local header.
  expect(bytes.subarray(30, 43).toString()).toBe('manifest.json');
  const check = await page.request.post('/api/list_backups', { data: {} });
  const listed = (await check.json()) as Array<{ name: string; namespace: string }>;
  expect(listed.find((b) => b.name === 'Download me')?.namespace).toBe('bk-download');

  // Uploaded again: named without the download's timestamp, and listed with where it was made.
  await backups.openSection(backups.uploadButton);
  await backups.chooseFile(saved);
  const upload = backups.section('Upload Backup');
  await expect(upload.getByLabel('Name')).toHaveValue('Download me');
  await upload.getByLabel('Name').fill('Download me again');
  await upload.getByRole('radio', { name: /^bk-download/ }).check();
  await upload.getByRole('button', { name: 'Confirm' }).click();
  const again = backups.row('Download me again');
  await expect(again).toContainText('(uploaded)');
  await expect(again.locator('.made-from')).toContainText(/^made from namespace bk-download on .+\d:\d{2}:\d{2}.*, nsbackup \d+\.\d+\.\d+, schema \d+$/);
});

test('an upload is named from its file, needs a namespace, is listed twice when sent twice, a bad file is refused, and a newer one is kept but not restored', async ({ page }) => {
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.uploadButton.click();
  const section = backups.section('Upload Backup');
  const confirm = section.getByRole('button', { name: 'Confirm' });
  await expect(section.getByRole('button', { name: 'Browse' })).toBeVisible();
  // The file input itself is not announced as a second button.
  await expect(section.getByRole('button')).toHaveText(['Browse', 'Confirm']);
  await expect(confirm).toBeDisabled();
  await backups.chooseFile(path.join(files, 'legacy-v1.zip'));
  await expect(section.getByText('legacy-v1.zip')).toBeVisible();
  await expect(section.getByRole('button', { name: 'Change File' })).toBeVisible();
  await expect(section.getByLabel('Name')).toHaveValue('legacy-v1');
  await expect(confirm).toBeDisabled();
  await section.getByRole('radio').first().check();
  await expect(confirm).toBeEnabled();
  await section.getByLabel('Name').fill('Legacy upload');
  await backups.shell.screenshot('backups-upload');
  await confirm.click();
  await expect(page.getByText('Backup Legacy upload uploaded. Restore it to use its data.')).toBeVisible();
  await expect(backups.row('Legacy upload')).toHaveCount(1);

  await backups.chooseFile(path.join(files, 'legacy-v1.zip'));
  await section.getByLabel('Name').fill('Legacy upload');
  await section.getByRole('radio').first().check();
  await section.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText(/identical to backup/)).toBeVisible();
  await expect(backups.row('Legacy upload')).toHaveCount(2);

  const before = await backups.rows().count();
  await backups.chooseFile({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('just text') });
  await section.getByRole('radio').first().check();
  await section.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText(/The upload was refused: .*not a zip file/)).toBeVisible();
  await expect(backups.rows()).toHaveCount(before);

  // A backup made by a newer nsbackup is kept and listed as such; it cannot be restored here.
  await backups.chooseFile(path.join(files, 'backup-from-a-newer-version.zip'));
  await section.getByRole('radio').first().check();
  await section.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText(/made by a newer nsbackup \(schema version 99; this server has \d+\)/)).toBeVisible();
  await expect(backups.rows()).toHaveCount(before + 1);
  // Four uploads, one refused: a few notifications at most, the refusal among them.
  expect(await page.locator('.toast').count()).toBeLessThanOrEqual(3);
  await expect(page.locator('.toast-error')).toContainText('The upload was refused');
  const future = backups.row('backup-from-a-newer-version');
  await expect(future).toContainText('made by a newer nsbackup: cannot be restored \u2014 upgrade first');
  await expect(backups.row('Legacy upload').first()).toContainText(/older version: migrated on restore \(schema 1 \u2192 \d+\)/);
  await future.click();
  const restoring = backups.section('Select Namespace');
  await restoring.getByRole('radio').first().check();
  await expect(restoring.getByRole('button', { name: 'Restore', exact: true })).toBeDisabled();
  await expect(restoring).toContainText('This backup was made by a newer nsbackup: cannot be restored \u2014 upgrade first.');
});

test('a backup is deleted after confirmation', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-delete');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('bk-delete', 'Short-lived');
  await backups.row('Short-lived').getByRole('button', { name: 'Delete backup Short-lived' }).click();
  await expect(backups.dialog).toContainText('Delete backup Short-lived?');
  await backups.shell.expectAccessibleDialog();
  await backups.dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByText('Backup Short-lived deleted')).toBeVisible();
  await expect(backups.row('Short-lived')).toHaveCount(0);

  // A name without a space to break it at still fits the confirmation, on a phone too.
  const long = `Nightly-${'x'.repeat(80)}`;
  await backups.create('bk-delete', long);
  await page.setViewportSize({ width: 390, height: 844 });
  await backups.row(long).getByRole('button', { name: `Delete backup ${long}` }).click();
  await backups.shell.expectAccessibleDialog();
  await backups.dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(backups.row(long)).toHaveCount(0);
});

test('an open confirmation stays as it is while the list is refreshed behind it', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-steady');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('bk-steady', 'Kept open');
  await backups.row('Kept open').getByRole('button', { name: 'Delete backup Kept open' }).click();
  await expect(backups.dialog).toContainText('Delete backup Kept open?');
  // A mark on the open dialog: a dialog built again would not carry it.
  await backups.dialog.evaluate((dialog) => dialog.setAttribute('data-opened', 'once'));

  // A backup started elsewhere meanwhile: the list shows it, the dialog is untouched.
  const started = await page.request.post('/api/v1/backups', { data: { namespace: 'bk-steady', name: 'Meanwhile' } });
  expect(started.status(), await started.text()).toBe(202);
  await expect(backups.row('Meanwhile').getByText('Completed')).toBeVisible();
  await expect(backups.dialog).toHaveAttribute('data-opened', 'once');
  await expect(backups.dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();

  await backups.dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByText('Backup Kept open deleted')).toBeVisible();
  await expect(backups.row('Kept open')).toHaveCount(0);
  await expect(backups.row('Meanwhile')).toHaveCount(1);
});

test('without the server\'s events the page asks for the job and still sees it end', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-no-events');
  // Every event stream is cut off, as a proxy that does not pass them on would.
  let cut = 0;
  await page.route(/\/api\/v1\/jobs\/(.+\/)?events$/, (route) => {
    cut += 1;
    return route.abort('connectionreset');
  });
  const backups = new BackupsPage(page);
  await backups.open();
  // The job's end, its notification and the list: all seen by asking for the job.
  await backups.create('bk-no-events', 'Without events');
  expect(cut, 'the event streams were asked for, and cut off').toBeGreaterThanOrEqual(2);
  await expect(backups.row('Without events')).toHaveCount(1);
});

test('a restore replaces the namespace with the backup, also into another namespace and from an older version', async ({ page }) => {
  // Two restores, an upload and three visits of the Explorer: more than the default 30 s on
  // a busy machine.
  test.setTimeout(90_000);
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-source');
  await explorer.open();
  await explorer.createNamespace('bk-target', 'Target');
  await explorer.createFolder('Will be replaced');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('bk-source', 'Source state');

  await backups.restore('Source state', 'bk-target');
  await expect(page.getByText('Backup Source state restored into namespace bk-target. Check the permissions of its folders.')).toBeVisible({ timeout: 30_000 });
  // The page keeps the reminder after the notification has gone.
  await expect(page.locator('.notice[role="status"]')).toContainText('Check the permissions of its folders');
  await backups.shell.screenshot('backups-restored');
  await explorer.open('/explorer/bk-target');
  await expect(explorer.tree.getByRole('button', { name: 'Processes' })).toBeVisible();
  await expect(explorer.tree.getByRole('button', { name: 'Will be replaced' })).toHaveCount(0);

  // A backup made by an older version is migrated on restore.
  await backups.open();
  await backups.openSection(backups.uploadButton);
  await backups.chooseFile(path.join(files, 'legacy-v1.zip'));
  const upload = backups.section('Upload Backup');
  await upload.getByLabel('Name').fill('Old format');
  await upload.getByRole('radio', { name: /^bk-target/ }).check();
  await upload.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('Backup Old format uploaded. Restore it to use its data.')).toBeVisible();
  await backups.restore('Old format', 'bk-target');
  await expect(page.getByText('Backup Old format restored into namespace bk-target. Check the permissions of its folders. Its content was migrated from schema 1 to 3.')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('.notice .report')).toContainText('Report: migrated from schema 1 to 3;');
  const history = page.getByRole('region', { name: 'Restore History' });
  await expect(history.locator('tr.history-row', { hasText: 'Old format' }).first()).toContainText('migrated from schema 1 to 3');
  await explorer.open('/explorer/bk-target');
  await expect(explorer.tree.getByRole('button', { name: 'Contracts' })).toBeVisible();
  await explorer.openFolder('Contracts');
  // Version 1 stored permissions as strings; the restored folder has them as entries.
  await page.getByText('Permissions', { exact: true }).click();
  await expect(page.getByRole('button', { name: 'Remove role legal' })).toBeVisible();
});

test('the list shows a backup started elsewhere, without a reload', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-elsewhere');
  const backups = new BackupsPage(page);
  // The page listens to the server's job events for it.
  const listening = page.waitForRequest((request) => new URL(request.url()).pathname === '/api/v1/jobs/events');
  await backups.open();
  await listening;
  await expect(backups.row('Made elsewhere')).toHaveCount(0);
  // Another administrator starts a backup (here: a request from outside the page).
  const answer = await page.request.post('/api/create_backup', {
    data: { namespace: 'bk-elsewhere', name: 'Made elsewhere' },
  });
  expect(answer.ok()).toBeTruthy();
  await expect(backups.row('Made elsewhere').getByText('Completed')).toBeVisible({ timeout: 20_000 });
});

test('a running backup shows its progress, cannot be deleted, and holds its namespace', async ({ page }) => {
  // Two tabs, a namespace filled, an upload, a reload and three refusals: about 20 s on a
  // quiet machine, over 30 s with both cores busy.
  test.setTimeout(90_000);
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-busy');
  const backups = new BackupsPage(page);
  await backups.open();
  // The test server holds every backup of bk-busy running for a minute (scripts/e2e.sh).
  await backups.start('bk-busy', 'Held');
  const progress = page.getByRole('status').filter({ hasText: 'Creating backup...' });
  await expect(progress.locator('.toast-step')).toHaveText('writing items');
  await expect(progress.locator('.toast-percent')).toHaveText(/^\d+%$/);
  // One progress for the job, in its notification: none besides it on the page.
  await expect(page.locator('progress')).toHaveCount(1);
  await expect(backups.row('Held').getByText('In progress')).toBeVisible();
  await backups.shell.screenshot('backups-running');

  // Deleting it is refused, with the reason.
  await backups.row('Held').getByRole('button', { name: 'Delete backup Held' }).click();
  await backups.dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'is being written or restored right now' })).toBeVisible();
  await expect(backups.row('Held')).toBeVisible();

  // A second backup of the same namespace, from another tab: refused, and the button is
  // usable again.
  const other = new BackupsPage(await page.context().newPage());
  await other.open();
  await other.start('bk-busy', 'Refused second');
  await expect(other.page.getByRole('alert').filter({ hasText: 'A backup or restore of namespace `bk-busy` is running already' })).toBeVisible();
  await expect(other.section('Select Namespace').getByRole('button', { name: 'Start Backup' })).toBeEnabled();
  await expect(other.row('Refused second')).toHaveCount(0);

  // Nor can a restore into it start.
  await uploadByRequest(other.page, 'Restore into busy', 'bk-busy');
  await other.page.reload();
  // A click before the page has hydrated selects nothing: wait for it, as open() does.
  await other.shell.waitForHydration();
  await other.restore('Restore into busy', 'bk-busy');
  await expect(other.page.getByRole('alert').filter({ hasText: 'A backup or restore of namespace `bk-busy` is running already' })).toBeVisible();
  await other.page.close();
});

/** Lists the golden version-1 backup file under `name` (an upload from outside the page). */
async function uploadByRequest(page: import('@playwright/test').Page, name: string, namespace: string): Promise<void> {
  const answer = await page.request.post(
    `/api/v1/uploads?namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`,
    { data: fs.readFileSync(path.join(files, 'legacy-v1.zip')), headers: { 'Content-Type': 'application/zip' } },
  );
  expect(answer.status(), await answer.text()).toBe(201);
}

test('a restore can be done from the keyboard alone', async ({ page }) => {
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-keys');
  await uploadByRequest(page, 'Keyboard', 'bk-keys');
  const backups = new BackupsPage(page);
  await backups.open();

  // A row is a stop of the Tab order; Enter selects it and opens Select Namespace.
  const row = backups.row('Keyboard');
  await row.focus();
  await page.keyboard.press('Enter');
  await expect(row).toHaveAttribute('aria-selected', 'true');
  const section = backups.section('Select Namespace');
  const restore = section.getByRole('button', { name: 'Restore', exact: true });
  await expect(restore).toBeDisabled();
  await section.getByRole('radio', { name: /^bk-keys/ }).focus();
  await page.keyboard.press('Space');
  await expect(restore).toBeEnabled();

  // The dialog starts on Cancel (the restore deletes data); Escape closes it and focus
  // returns to Restore.
  await restore.focus();
  await page.keyboard.press('Enter');
  await expect(backups.dialog).toContainText('All existing data of namespace bk-keys will be deleted');
  await expect(backups.dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(backups.dialog).toBeHidden();
  await expect(restore).toBeFocused();

  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(backups.dialog.getByRole('button', { name: 'Restore', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByText('Backup Keyboard restored into namespace bk-keys. Check the permissions of its folders.')).toBeVisible({ timeout: 30_000 });

  // Its entry in the Restore History: Enter on the summary opens what the restore did, and
  // its report is the next stop.
  const entry = page
    .getByRole('region', { name: 'Restore History' })
    .locator('tr.history-row')
    .filter({ has: page.locator('td', { hasText: /^restore of backup \u201cKeyboard\u201d$/ }) })
    .first();
  const summary = entry.locator('summary');
  await summary.focus();
  await expectFocusInSight(summary);
  await page.keyboard.press('Enter');
  await expect(entry.locator('details')).toHaveAttribute('open', '');
  await expect(entry.locator('details')).toContainText('Migrated:');
  await page.keyboard.press('Tab');
  await expectFocusInSight(entry.getByRole('link', { name: /^Download the report: restore of backup/ }));
  const downloading = page.waitForEvent('download');
  await page.keyboard.press('Enter');
  expect((await downloading).suggestedFilename()).toMatch(/^restore-report_bk-keys_.*\.json$/);
});

test('a restore can create a new namespace', async ({ page }) => {
  await uploadByRequest(page, 'Into new', 'bk-somewhere');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.row('Into new').click();
  const section = backups.section('Select Namespace');
  const restore = section.getByRole('button', { name: 'Restore', exact: true });
  const field = section.getByLabel('Or into a new namespace');
  await field.fill('Not Valid');
  await expect(section.getByText('A namespace name starts with a lowercase letter or a digit.')).toBeVisible();
  await expect(restore).toBeDisabled();
  await field.fill('bk-new');
  await expect(restore).toBeEnabled();
  await backups.shell.screenshot('backups-restore-new-namespace');
  await restore.click();
  await expect(backups.dialog).toContainText('Namespace bk-new will be created with the data from backup “Into new”.');
  await backups.dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(page.getByText('Backup Into new restored into namespace bk-new. Check the permissions of its folders.')).toBeVisible({ timeout: 30_000 });
  const explorer = new Explorer(page);
  await explorer.open('/explorer/bk-new');
  await expect(explorer.tree.getByRole('button', { name: 'Contracts' })).toBeVisible();
});

test('a backup damaged on the server is refused by its restore and listed as damaged', async ({ page }) => {
  const dataDir = process.env.NSBACKUP_E2E_DATA_DIR;
  if (!dataDir) throw new Error('NSBACKUP_E2E_DATA_DIR is not set: run the browser tests with `make test`');
  const explorer = new Explorer(page);
  await namespaceWithContent(explorer, 'bk-rot');
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.create('bk-rot', 'Will rot');

  // One byte of the stored file changes, as bit rot on the disk would.
  const href = await backups.row('Will rot').getByRole('link', { name: 'Download backup Will rot' }).getAttribute('href');
  const id = /^\/api\/v1\/backups\/([^/]+)\/download$/.exec(href ?? '')?.[1];
  expect(id, `the download link ${href}`).toBeTruthy();
  const file = path.join(dataDir, 'backups', `${id}.zip`);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x40;
  fs.writeFileSync(file, bytes);

  await backups.restore('Will rot', 'bk-rot');
  await expect(page.getByText(/The restore failed: Backup “Will rot” is damaged: .*SHA-256/)).toBeVisible({ timeout: 30_000 });
  await expect(backups.row('Will rot').getByText('Damaged')).toBeVisible();
  await expect(backups.row('Will rot').getByRole('link', { name: 'Download backup Will rot' })).toHaveCount(0);
  // It is no longer the backup chosen for a restore.
  await expect(page.getByText('Restore backup “Will rot”')).toHaveCount(0);
  await backups.shell.screenshot('backups-damaged');
  // The namespace kept its content.
  await explorer.open('/explorer/bk-rot');
  await expect(explorer.tree.getByRole('button', { name: 'Processes' })).toBeVisible();
});
