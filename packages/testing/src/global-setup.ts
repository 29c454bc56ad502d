import { startContainers } from './containers';
import { prepareTemplateDatabase } from './database';
import { SERVICE_ENV, dockerAvailable } from './services';

/**
 * Jest global setup of the integration project: make sure every service address is known
 * (from the environment, else from containers where Docker exists), then build the migrated
 * template database the test files clone.
 */
export default async function globalSetup(): Promise<void> {
  const missing = Object.entries(SERVICE_ENV).filter(([, name]) => !process.env[name]);
  if (missing.length > 0 && dockerAvailable()) {
    await startContainers(missing.map(([service]) => service as keyof typeof SERVICE_ENV));
  }
  // Without the Postgres address nothing can run: say what to start (services.ts has the text).
  await prepareTemplateDatabase();
}
