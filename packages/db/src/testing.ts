import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDeploy } from './migrate.js';

/**
 * A fresh, fully migrated database for one test file (or one demo run), on the server named by
 * `adminUrl`. Tests run in parallel, so each gets its own database; drop() removes it.
 */
export async function createScratchDatabase(adminUrl: string, prefix = 'ldh_test'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDeploy(url.toString());
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
