import { expect, test } from './fixtures/a11y';
import { Explorer } from './fixtures/explorer';

// A reader in Tokyo with a German browser.
test.use({ timezoneId: 'Asia/Tokyo', locale: 'de-DE' });

test("times show to the second in the browser's time zone and language, with the zone on hover", async ({ page }) => {
  const explorer = new Explorer(page);
  await explorer.open();
  await explorer.createNamespace(`times-${Date.now().toString(36)}`);
  await explorer.createItem('Form', 'Intake');
  await page.getByRole('button', { name: /← Top level/ }).click();

  const time = page.getByRole('row', { name: /Intake/ }).locator('time');
  const iso = await time.getAttribute('datetime');
  expect(iso).not.toBeNull();
  const at = new Date(iso ?? '');
  const expected = (timeStyle: 'medium' | 'long') =>
    at.toLocaleString('de-DE', { dateStyle: 'medium', timeStyle, timeZone: 'Asia/Tokyo' });
  await expect(time).toHaveText(expected('medium'));
  await expect(time).toHaveText(/\d{2}:\d{2}:\d{2}$/);
  await expect(time).toHaveAttribute('title', expected('long'));
  await expect(time).not.toContainText('UTC');
});
