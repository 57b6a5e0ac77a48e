import * as path from 'node:path';
import { type Page } from '@playwright/test';
import { expectAccessible, expect, test } from './fixtures/a11y';
import { BackupsPage } from './fixtures/backups';
import { Shell } from './fixtures/shell';

const sizes = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Fails when the page scrolls sideways, naming the elements that stick out. */
async function expectNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const [scroll, width, culprits] = await page.evaluate(() => {
    const width = window.innerWidth;
    const scrolls = (el: Element | null): boolean => {
      for (let at = el?.parentElement; at; at = at.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(at).overflowX)) return true;
      }
      return false;
    };
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !scrolls(el))
      .slice(0, 6)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return [document.documentElement.scrollWidth, width, culprits.join(', ')] as const;
  });
  expect(scroll, `${what} is ${scroll} px wide in a ${width} px window: ${culprits}`).toBeLessThanOrEqual(width);
}

/** Fails when a notification covers a control (button, link or field) outside it. */
async function expectNotificationsCoverNothing(page: Page): Promise<void> {
  const overlaps = await page.evaluate(() => {
    const boxes = [...document.querySelectorAll('.toast')].map((t) => t.getBoundingClientRect());
    const controls = [...document.querySelectorAll('button, a, input, select, textarea')].filter(
      (c) => !c.closest('.toast') && (c as HTMLElement).offsetParent !== null,
    );
    const hits: string[] = [];
    for (const box of boxes) {
      for (const control of controls) {
        const r = control.getBoundingClientRect();
        if (r.width && r.height && r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom) {
          hits.push(control.textContent?.trim() || control.getAttribute('aria-label') || control.tagName);
        }
      }
    }
    return hits;
  });
  expect(overlaps, 'controls under a notification').toEqual([]);
}

for (const size of sizes) {
  test(`every page works at ${size.width}×${size.height} in both themes: no sideways scrolling, accessible, screenshots`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width: size.width, height: size.height });
    const namespace = `screens-${size.name}`;
    await page.goto('/');
    await page.request.post('/api/create_namespace', { data: { name: namespace, title: 'Screens' } });
    await page.request.post('/api/create_item', { data: { namespace, folder: null, kind: 'service', name: 'Billing' } });
    // The longest names there may be, without a space to break them at, pinned: the list
    // still fits its window.
    const wideNamespace = `wide-${size.name}-${'n'.repeat(63 - 6 - size.name.length)}`;
    await page.request.post('/api/create_namespace', { data: { name: wideNamespace, title: '' } });
    await page.request.post('/api/create_item', { data: { namespace: wideNamespace, folder: null, kind: 'form', name: 'Wide' } });
    const wideName = `Scheduled-2026-12-06-04-15-${'w'.repeat(100 - 27)}`;
    const started = await page.request.post('/api/v1/backups', { data: { namespace: wideNamespace, name: wideName } });
    expect(started.status(), await started.text()).toBe(202);
    const { backup: wide, job } = await started.json();
    await expect
      .poll(async () => (await (await page.request.get(`/api/v1/jobs/${job.id}`)).json()).status, { timeout: 30_000 })
      .toBe('succeeded');
    const pinned = await page.request.post('/api/pin_backup', { data: { id: wide.id, pinned: true } });
    expect(pinned.ok(), await pinned.text()).toBe(true);
    // A revoked token: a list of tokens without a button in it.
    const token = await page.request.post('/api/create_token', { data: { name: `Screens ${size.name}`, days: 30 } });
    expect(token.ok(), await token.text()).toBe(true);
    const revoked = await page.request.post('/api/revoke_token', { data: { handle: (await token.json()).info.handle } });
    expect(revoked.ok(), await revoked.text()).toBe(true);
    const shell = new Shell(page);
    const pages = [
      ['overview', '/'],
      ['explorer', `/explorer/${namespace}`],
      ['backups', '/admin/backups'],
      ['users', '/admin/users'],
      ['audit-log', '/admin/audit'],
      ['api-tokens', '/admin/tokens'],
      ['account', '/account'],
    ] as const;
    for (const dark of [false, true]) {
      for (const [name, path] of pages) {
        await shell.open(path);
        await shell.waitForHydration();
        if (dark) {
          await shell.themeToggle.click();
          await expect(shell.themeToggle).toHaveAttribute('aria-pressed', 'true');
          await expectAccessible(page, `${path} in the dark theme`);
        }
        await expectNoSidewaysScroll(page, path);
        await page.screenshot({ path: `screenshots/${name}-${size.name}-${dark ? 'dark' : 'light'}.png`, fullPage: true });
        if (dark) await shell.themeToggle.click();
      }
    }

    // The main flow: a backup, its notifications, the restore section and its preview.
    const backups = new BackupsPage(page);
    await backups.open();
    await backups.create(namespace, `Screens ${size.name}`);
    await expect(page.locator('.toast')).toHaveCount(1);
    await expect(page.getByText('Backup process started')).toHaveCount(0);
    await expectNotificationsCoverNothing(page);
    await backups.row(`Screens ${size.name}`).click();
    const section = backups.section('Select Namespace');
    await section.getByRole('radio', { name: new RegExp(`^${namespace}( —|$)`) }).check();
    await expect(section.getByRole('heading', { name: 'What this restore does' })).toBeVisible();
    await expectNoSidewaysScroll(page, 'the restore section');
    await section.getByRole('button', { name: 'Restore', exact: true }).click();
    await shell.expectAccessibleDialog();
    const box = await backups.dialog.boundingBox();
    expect(box, 'the dialog').not.toBeNull();
    if (box) {
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(size.width);
    }
    await page.screenshot({ path: `screenshots/restore-confirm-${size.name}.png` });
    await backups.dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(page.locator('.notice', { hasText: `Namespace ${namespace} was restored` })).toBeVisible({ timeout: 30_000 });
    await expectNoSidewaysScroll(page, 'the finished restore');
    await expectNotificationsCoverNothing(page);
    await page.getByRole('button', { name: 'Undo Restore' }).click();
    await shell.expectAccessibleDialog();
    await backups.dialog.getByRole('button', { name: 'Cancel' }).click();

    // An upload.
    await backups.openSection(backups.uploadButton);
    await backups.chooseFile(path.join(__dirname, 'files', 'legacy-v1.zip'));
    const upload = backups.section('Upload Backup');
    await upload.getByLabel('Name').fill(`Uploaded on ${size.name}`);
    await upload.getByRole('radio', { name: new RegExp(`^${namespace}( —|$)`) }).check();
    await expectNoSidewaysScroll(page, 'the upload section');
    await upload.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByText(`Backup Uploaded on ${size.name} uploaded. Restore it to use its data.`)).toBeVisible();
    await expectNotificationsCoverNothing(page);
    await expectNoSidewaysScroll(page, 'the list after an upload');
    // Nor does the list scroll sideways in its card: every row's actions are in sight.
    const [listWidth, cardWidth] = await backups.list.evaluate((card) => [card.scrollWidth, card.clientWidth]);
    expect(listWidth, `the list of backups in its ${cardWidth} px card`).toBeLessThanOrEqual(cardWidth);
    const cardBox = await backups.list.boundingBox();
    for (const action of await backups.list.locator('td.actions').getByRole('button').all()) {
      const box = await action.boundingBox();
      expect(box && cardBox && box.x + box.width <= cardBox.x + cardBox.width, `${await action.getAttribute('aria-label')} in sight`).toBe(true);
    }
    await page.screenshot({ path: `screenshots/backups-after-upload-${size.name}.png`, fullPage: true });
    const deleted = await page.request.delete(`/api/v1/backups/${wide.id}`);
    expect(deleted.ok(), await deleted.text()).toBe(true);
  });
}

test('on a phone the navigation folds behind Menu, and following a link folds it again', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const shell = new Shell(page);
  await shell.open('/');
  await shell.waitForHydration();
  const menu = page.getByRole('button', { name: 'Menu' });
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await expect(shell.nav).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(shell.nav).toBeVisible();
  await expectAccessible(page, 'the unfolded menu');
  await page.screenshot({ path: 'screenshots/menu-phone.png' });
  await shell.navLink('Backup and Restore').click();
  await expect(shell.heading).toHaveText('Backup and Restore');
  await expect(shell.nav).toBeHidden();
  await expectNoSidewaysScroll(page, 'Backup and Restore at 360 px');
  // On a desktop there is no Menu button: the navigation is always there.
  await page.setViewportSize({ width: 1280, height: 800 });
  await expect(menu).toBeHidden();
  await expect(shell.nav).toBeVisible();
});

test('the explorer opens the namespace chosen last', async ({ page }) => {
  await page.request.post('/api/create_namespace', { data: { name: 'last-chosen', title: '' } });
  const shell = new Shell(page);
  await shell.open('/explorer/last-chosen');
  await shell.waitForHydration();
  await shell.navLink('Overview').click();
  await expect(shell.heading).toHaveText('Overview');
  await shell.navLink('Explorer').click();
  await expect(page).toHaveURL(/\/explorer\/last-chosen$/);
  await expect(page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: 'last-chosen (top level)' })).toBeVisible();
});

test('on a phone the Menu works from the keyboard alone, the focus in sight', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const shell = new Shell(page);
  await shell.open('/');
  await shell.waitForHydration();
  const menu = page.getByRole('button', { name: 'Menu' });
  await menu.focus();
  await page.keyboard.press('Enter');
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(shell.nav).toBeVisible();
  // Tab by Tab to Backup and Restore: every stop shows where the focus is.
  const target = shell.navLink('Backup and Restore');
  for (let stop = 0; stop < 12; stop++) {
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const style = el ? getComputedStyle(el) : null;
      return { text: el?.textContent?.trim() ?? '', outline: style ? `${style.outlineStyle} ${parseFloat(style.outlineWidth)}` : 'none 0' };
    });
    expect(ring.outline, `the focus on \u201c${ring.text}\u201d is in sight`).not.toMatch(/^none|\s0$/);
    if (await target.evaluate((el) => el === document.activeElement)) break;
  }
  await expect(target).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(shell.heading).toHaveText('Backup and Restore');
  await expect(shell.nav).toBeHidden();
});
