import { dropTemplateDatabase } from './database';

/** Jest global teardown of the integration project: drop this run's template database. */
export default async function globalTeardown(): Promise<void> {
  await dropTemplateDatabase();
}
