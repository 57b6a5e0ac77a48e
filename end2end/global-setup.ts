import { request, type FullConfig } from '@playwright/test';

/** Signs in as `admin` (created by the server in its empty database, see scripts/e2e.sh)
 * and keeps the session cookie for the tests. */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL = config.projects[0].use.baseURL;
  const password = process.env.NSBACKUP_E2E_ADMIN_PASSWORD;
  if (!password) throw new Error('NSBACKUP_E2E_ADMIN_PASSWORD is not set: run the browser tests with scripts/e2e.sh');
  const context = await request.newContext({ baseURL });
  const response = await context.post('/api/sign_in', { data: { name: 'admin', password } });
  if (!response.ok()) throw new Error(`signing in as admin failed: ${response.status()} ${await response.text()}`);
  await context.storageState({ path: '.auth/admin.json' });
  await context.dispose();
}
