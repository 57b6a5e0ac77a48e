import { expect, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';

/** Starts a backup of `namespace` through the API and waits for its end. */
async function backupOf(request: import('@playwright/test').APIRequestContext, namespace: string, name: string) {
  const started = await request.post('/api/v1/backups', { data: { namespace, name } });
  expect(started.status(), await started.text()).toBe(202);
  const { job } = await started.json();
  await expect
    .poll(async () => (await (await request.get(`/api/v1/jobs/${job.id}`)).json()).status, { timeout: 30_000 })
    .toBe('succeeded');
}

/** Deletes every backup of `namespace`, so that the specs after this one see a short list. */
async function deleteBackupsOf(request: import('@playwright/test').APIRequestContext, namespace: string) {
  const listed = await request.get(`/api/v1/backups?namespace=${namespace}&limit=500`);
  expect(listed.status(), await listed.text()).toBe(200);
  for (const backup of (await listed.json()).items) {
    const deleted = await request.delete(`/api/v1/backups/${backup.id}`);
    expect(deleted.ok(), await deleted.text()).toBe(true);
  }
}

test.afterEach(async ({ page }) => {
  for (const namespace of ['list-many', 'list-other']) await deleteBackupsOf(page.request, namespace);
});

test('a long list shows 100 backups a page, searched by name or namespace', async ({ page }) => {
  test.setTimeout(180_000);
  const request = page.request;
  await request.post('/api/create_namespace', { data: { name: 'list-many', title: 'Many backups' } });
  await request.post('/api/create_namespace', { data: { name: 'list-other', title: '' } });
  for (let i = 1; i <= 104; i++) await backupOf(request, 'list-many', `Many ${String(i).padStart(3, '0')}`);
  await backupOf(request, 'list-other', 'The odd one');

  const backups = new BackupsPage(page);
  await backups.open();
  const search = backups.list.getByRole('searchbox', { name: 'Search backups' });
  const pages = backups.list.getByRole('navigation', { name: 'Pages of backups' });

  await search.fill('list-many');
  await expect(pages.getByText('Backups 1–100 of 104')).toBeVisible();
  await expect(backups.rows()).toHaveCount(100);
  await expect(backups.rows().first()).toContainText('Many 104');
  await expect(pages.getByRole('button', { name: 'Previous' })).toBeDisabled();

  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(pages.getByText('Backups 101–104 of 104')).toBeVisible();
  await expect(backups.rows()).toHaveCount(4);
  await expect(backups.rows().last()).toContainText('Many 001');
  await expect(pages.getByRole('button', { name: 'Next' })).toBeDisabled();
  await backups.shell.screenshot('backups-page-2');

  // A new search starts again at the first page; the name counts as much as the namespace.
  await search.fill('ODD ONE');
  await expect(backups.rows()).toHaveCount(1);
  await expect(backups.row('The odd one')).toContainText('list-other');
  await expect(backups.list.getByText('1 backup', { exact: true })).toBeVisible();

  await search.fill('no backup is called like this');
  await expect(backups.list.getByText('No backup\u2019s name or namespace contains \u201cno backup is called like this\u201d.')).toBeVisible();
  await expect(backups.rows()).toHaveCount(0);

  // The page asked for 100 at a time: the server never sent the whole list.
  const listed = await request.post('/api/list_backup_page', { data: { search: 'list-many', offset: 0 } });
  const body = await listed.json();
  expect(body.items).toHaveLength(100);
  expect(body.total).toBe(104);
});

test('a search that is too long is refused with the limit', async ({ page }) => {
  const refused = await page.request.post('/api/list_backup_page', { data: { search: 'x'.repeat(101), offset: 0 } });
  expect(refused.status()).toBe(400);
  expect(await refused.text()).toContain('Search for at most 100 characters.');
});

test('the page is sent with the data of its list once', async ({ page }) => {
  const request = page.request;
  await request.post('/api/create_namespace', { data: { name: 'list-other', title: '' } });
  await backupOf(request, 'list-other', 'Sent once');
  const listed = await request.get('/api/v1/backups?namespace=list-other');
  const [backup] = (await listed.json()).items;
  expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);

  // The checksum is not shown on the page: it travels only in the data the browser takes
  // over from the server, which must hold the list once, not once per pass of the render.
  const html = await (await request.get('/admin/backups')).text();
  expect(html).toContain('Sent once');
  expect(html.split(backup.sha256).length - 1).toBe(1);
});

test('the list shows creation times to the second, newest first, in the order it sorts by', async ({ page }) => {
  const request = page.request;
  await request.post('/api/create_namespace', { data: { name: 'list-other', title: '' } });
  for (const name of ['Second A', 'Second B', 'Second C']) await backupOf(request, 'list-other', name);
  const backups = new BackupsPage(page);
  await backups.open();
  await backups.list.getByRole('searchbox', { name: 'Search backups' }).fill('Second');
  await expect(backups.rows()).toHaveCount(3);
  const shown = await backups
    .rows()
    .locator('td:nth-child(3) time')
    .evaluateAll((times) => times.map((t) => [t.getAttribute('datetime') ?? '', t.textContent ?? '']));
  expect(shown).toHaveLength(3);
  for (const [, text] of shown) expect(text, 'to the second').toMatch(/\d{1,2}:\d{2}:\d{2}/);
  const instants = shown.map(([at]) => Date.parse(at));
  expect([...instants].sort((a, b) => b - a), 'newest first').toEqual(instants);
  await expect(backups.rows().first()).toContainText('Second C');
  await expect(backups.rows().last()).toContainText('Second A');
});
