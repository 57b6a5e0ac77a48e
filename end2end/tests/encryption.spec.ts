import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';
import { Explorer } from './fixtures/explorer';

const SECRET = 'correct horse battery staple';

test('a backup encrypted with a passphrase downloads as .zip.age, uploads and restores only with it', async ({ page }) => {
  // Five flows, and each opening of the file with the passphrase derives its key on
  // purpose slowly (about a second, longer with both cores busy): about 30 s on a quiet
  // machine, over a minute on a loaded one.
  test.setTimeout(150_000);
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace('bk-secret', 'Backups bk-secret');
  await explorer.createFolder('Processes');
  await explorer.createItem('Service', 'Billing');
  const backups = new BackupsPage(page);
  await backups.open();

  // Create: the passphrase twice, with a hint of its strength; Start Backup waits for both.
  await backups.openSection(backups.createButton);
  const create = backups.section('Select Namespace');
  const start = create.getByRole('button', { name: 'Start Backup' });
  await create.getByRole('radio', { name: /^bk-secret( —|$)/ }).check();
  await create.getByLabel('Name').fill('Secret plans');
  await expect(start).toBeEnabled();
  const passphrase = create.getByLabel('Encrypt with a passphrase', { exact: true });
  await passphrase.fill('short');
  await expect(create.locator('#backup-passphrase-hint')).toContainText('Too short: at least 10 characters.');
  await expect(start).toBeDisabled();
  await passphrase.fill(SECRET);
  await expect(create.locator('#backup-passphrase-hint')).toContainText('Strong.');
  await expect(create.locator('#backup-passphrase-hint')).toContainText('without it, this backup cannot be restored');
  const repeat = create.getByLabel('Repeat the passphrase', { exact: true });
  await repeat.fill(`${SECRET}!`);
  await expect(create.getByText('The two passphrases differ.')).toBeVisible();
  await expect(start).toBeDisabled();
  await repeat.fill(SECRET);
  await expect(create.getByText('The two passphrases differ.')).toBeHidden();
  await backups.shell.screenshot('backups-create-passphrase');
  await start.click();
  await backups.shell.expectAccessibleDialog();
  await backups.dialog.getByRole('button', { name: 'Start Backup' }).click();
  await expect(page.getByText('Backup process finished successfully')).toBeVisible({ timeout: 60_000 });
  const row = backups.row('Secret plans');
  await expect(row.getByText('Completed')).toBeVisible();
  await expect(row).toContainText('encrypted with a passphrase');
  // The passphrase does not stay on the page: the form closed when the backup started.
  await expect(passphrase).toHaveCount(0);

  // Download: an age file sealed with a passphrase, none of the namespace's names readable.
  const downloading = page.waitForEvent('download');
  await row.getByRole('link', { name: 'Download backup Secret plans' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^Secret plans_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.zip\.age$/);
  const saved = path.join(test.info().outputDir, download.suggestedFilename());
  await download.saveAs(saved);
  const bytes = fs.readFileSync(saved);
  expect(bytes.subarray(0, 32).toString('binary')).toBe('age-encryption.org/v1\n-> scrypt ');
  expect(bytes.includes(Buffer.from('Billing'))).toBe(false);

  // Upload: the page sees the file needs a passphrase and asks for it; a wrong one is refused.
  await backups.openSection(backups.uploadButton);
  await backups.chooseFile(saved);
  const upload = backups.section('Upload Backup');
  await expect(upload.getByLabel('Name')).toHaveValue('Secret plans');
  await upload.getByLabel('Name').fill('Secret plans again');
  await upload.getByRole('radio', { name: /^bk-secret( —|$)/ }).check();
  const confirm = upload.getByRole('button', { name: 'Confirm' });
  const uploadPassphrase = upload.getByLabel('Passphrase', { exact: true });
  await expect(uploadPassphrase).toBeVisible();
  await expect(confirm).toBeDisabled();
  await uploadPassphrase.fill('not the passphrase');
  await confirm.click();
  await expect(page.getByText(/The upload was refused: The passphrase does not open this backup/)).toBeVisible();
  await expect(backups.row('Secret plans again')).toHaveCount(0);
  await uploadPassphrase.fill(SECRET);
  await confirm.click();
  await expect(page.getByText('Backup Secret plans again uploaded. Restore it to use its data.')).toBeVisible();
  await expect(backups.row('Secret plans again')).toContainText('encrypted with a passphrase');

  // Restore: nothing is previewed or restored before the passphrase unlocks it.
  await backups.row('Secret plans again').click();
  const restore = backups.section('Select Namespace');
  await restore.getByLabel('Or into a new namespace').fill('bk-secret-copy');
  const restoreButton = restore.getByRole('button', { name: 'Restore', exact: true });
  await expect(restoreButton).toBeDisabled();
  await expect(restore.getByText('What this restore does')).toHaveCount(0);
  const restorePassphrase = restore.getByLabel('Passphrase', { exact: true });
  await restorePassphrase.fill('not the passphrase');
  await restore.getByRole('button', { name: 'Unlock' }).click();
  await expect(restore.getByText(/The passphrase does not open this backup/)).toBeVisible({ timeout: 30_000 });
  await restorePassphrase.fill(SECRET);
  await restorePassphrase.press('Enter');
  await expect(restore.getByText('What this restore does')).toBeVisible({ timeout: 30_000 });
  await expect(restore.getByText('Namespace bk-secret-copy is created.')).toBeVisible();
  await backups.shell.screenshot('backups-restore-passphrase');
  await expect(restoreButton).toBeEnabled();
  await restoreButton.click();
  await backups.shell.expectAccessibleDialog();
  await backups.dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(page.getByText('Backup Secret plans again restored into namespace bk-secret-copy.', { exact: false })).toBeVisible({ timeout: 60_000 });

  // The restored namespace holds what was backed up.
  await explorer.open('/explorer/bk-secret-copy');
  await expect(explorer.tree.getByRole('button', { name: 'Processes' })).toBeVisible();
});
