import SwaggerParser from '@apidevtools/swagger-parser';
import { expect, test } from './fixtures/a11y';

test('the API document at /api/v1/openapi.json is valid OpenAPI 3.1', async ({ page }) => {
  const answer = await page.request.get('/api/v1/openapi.json');
  expect(answer.status()).toBe(200);
  const document = await answer.json();
  expect(document.openapi).toMatch(/^3\.1\./);
  // Throws, naming the fault, when the document does not validate.
  const checked = await SwaggerParser.validate(structuredClone(document));
  expect(Object.keys(checked.paths ?? {})).toContain('/api/v1/backups');
});
