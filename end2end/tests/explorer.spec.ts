import { expect, test } from './fixtures/a11y';
import { Explorer } from './fixtures/explorer';

function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}`;
}

test('a namespace is created only with a valid name', async ({ page }) => {
  const explorer = new Explorer(page);
  const errors = await explorer.open();
  await page.getByRole('button', { name: 'New namespace' }).click();
  const form = page.getByRole('form', { name: 'New namespace' });
  const create = form.getByRole('button', { name: 'Create' });
  await expect(create).toBeDisabled();
  await form.getByLabel('Name').fill('Sales Team');
  await expect(form.getByText('starts with a lowercase letter or a digit')).toBeVisible();
  await expect(create).toBeDisabled();
  const name = unique('sales');
  await form.getByLabel('Name').fill(name);
  await expect(create).toBeEnabled();
  await form.getByLabel('Title').fill('Sales processes');
  await create.click();
  await expect(page).toHaveURL(new RegExp(`/explorer/${name}$`));
  await expect(explorer.toast(`Namespace ${name} created`)).toBeVisible();
  await expect(explorer.namespaceSelect).toHaveValue(name);
  await explorer.shell.screenshot('explorer-new-namespace');
  expect(errors).toEqual([]);
});

test('while a new namespace loads, the namespace left behind is never shown under its name', async ({ page }) => {
  const explorer = new Explorer(page);
  const errors = await explorer.open();
  const left = unique('left');
  await explorer.createNamespace(left);
  await explorer.createFolder('Processes');
  await explorer.openFolder('Processes');

  // A slow server: the new namespace's folders take three seconds to arrive.
  await page.route('**/api/get_namespace_tree', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await route.continue();
  });
  const opened = unique('opened');
  await page.getByRole('button', { name: 'New namespace' }).click();
  const form = page.getByRole('form', { name: 'New namespace' });
  await form.getByLabel('Name').fill(opened);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(new RegExp(`/explorer/${opened}$`));
  // Well before the new tree arrives, the old one (its folders, its top level) is gone.
  await expect(explorer.tree).toBeHidden({ timeout: 1_000 });
  await expect(explorer.folderHeading).toBeHidden({ timeout: 1_000 });
  await expect(page.getByText('Loading…')).toBeVisible();
  // Then the new namespace, empty, at its top level.
  await expect(page.getByRole('button', { name: `${opened} (top level)` })).toBeVisible();
  await expect(explorer.folderHeading).toHaveText('Top level');
  await expect(explorer.tree.getByRole('button', { name: 'Processes' })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('folders and items are created, edited, and deleted after confirmation', async ({ page }) => {
  const explorer = new Explorer(page);
  const errors = await explorer.open();
  const name = unique('content');
  await explorer.createNamespace(name);

  await explorer.createFolder('Processes');
  await explorer.openFolder('Processes');
  await explorer.createFolder('Orders');
  await expect(explorer.tree.getByRole('button', { name: 'Orders' })).toBeVisible();

  await explorer.createItem('Service', 'Order service');
  const save = page.getByRole('button', { name: 'Save', exact: true });
  await expect(save).toBeDisabled();
  await explorer.editor().fill('{"steps": [');
  await expect(page.getByText('not valid JSON')).toBeVisible();
  await expect(save).toBeDisabled();
  await explorer.editor().fill('{"steps": ["receive", "check", "ship"]}');
  await expect(save).toBeEnabled();
  await save.click();
  await expect(explorer.toast('Order service saved (revision 2)')).toBeVisible();
  await explorer.shell.screenshot('explorer-item-editor');

  await page.reload();
  await explorer.shell.waitForHydration();
  await expect(explorer.editor()).toHaveValue('{"steps": ["receive", "check", "ship"]}');
  await expect(page.getByText(/Revision 2/)).toBeVisible();

  await page.getByRole('button', { name: /← Processes/ }).click();
  await expect(explorer.folderHeading).toHaveText('Processes');
  const row = page.getByRole('row', { name: /Order service/ });
  await expect(row).toContainText('Service');
  await explorer.shell.screenshot('explorer-folder');

  await row.getByRole('link', { name: 'Order service' }).click();
  await page.getByRole('button', { name: 'Delete item' }).click();
  await expect(explorer.dialog).toContainText('Delete Order service?');
  // Keyboard users: focus starts on Cancel (the action destroys), Tab stays inside, Escape
  // returns it.
  const confirmButton = explorer.dialog.getByRole('button', { name: 'Delete item' });
  const cancelButton = explorer.dialog.getByRole('button', { name: 'Cancel' });
  await expect(cancelButton).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(confirmButton).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(cancelButton).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(explorer.dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'Delete item' })).toBeFocused();
  await page.getByRole('button', { name: 'Delete item' }).click();
  await explorer.confirm('Delete item');
  await expect(explorer.toast('Order service deleted')).toBeVisible();
  await expect(page.getByRole('row', { name: /Order service/ })).toHaveCount(0);

  await page.getByRole('button', { name: 'Delete folder' }).click();
  await explorer.confirm('Delete folder');
  await expect(explorer.toast('Folder deleted (2 folders, 0 items)')).toBeVisible();
  await expect(explorer.tree.getByRole('button', { name: 'Processes' })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a duplicate name is refused with a message that says what to do', async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace(unique('dup'));
  await explorer.createFolder('Shared');
  await page.getByLabel('New folder name').fill('Shared');
  await page.getByRole('button', { name: 'New folder' }).click();
  await expect(explorer.toast('The name `Shared` is not available here: another folder in this place has it (possibly one you may not see). Choose another name.')).toBeVisible();
});

test('a folder sets its own permissions and its subfolders inherit them', async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace(unique('perm'));
  await explorer.createFolder('Contracts');
  await explorer.openFolder('Contracts');
  await explorer.createFolder('Drafts');

  await page.getByText('Permissions', { exact: true }).click();
  await page.getByLabel('Inherit from the parent folder').uncheck();
  await page.getByLabel('Principal kind').selectOption('role');
  await page.getByLabel('Principal name').fill('legal');
  await page.getByLabel('Access').selectOption('manage');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('button', { name: 'Save permissions' }).click();
  await expect(explorer.toast('Permissions saved')).toBeVisible();

  await explorer.openFolder('Drafts');
  await page.getByText('Permissions', { exact: true }).click();
  await expect(page.getByLabel('Inherit from the parent folder')).toBeChecked();
  await expect(page.getByRole('cell', { name: 'role legal', exact: true })).toBeVisible();
});

test("a namespace's title can be changed and is shown in the namespace list", async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  const name = unique('titled');
  await explorer.createNamespace(name, 'Old title');
  const form = page.getByRole('form', { name: 'Namespace title' });
  await expect(form.getByLabel('Title')).toHaveValue('Old title');
  await form.getByLabel('Title').fill('Customer processes');
  await form.getByRole('button', { name: 'Save title' }).click();
  await expect(explorer.toast(`Title of ${name} saved`)).toBeVisible();
  await expect(explorer.namespaceSelect.locator('option:checked')).toHaveText(`${name} — Customer processes`);
  await page.reload();
  await explorer.shell.waitForHydration();
  await expect(page.getByRole('form', { name: 'Namespace title' }).getByLabel('Title')).toHaveValue('Customer processes');
});
