import { z } from 'zod';
import { envFields, parseEnv } from '@ldh/config';
import { createDb, type Db } from '@ldh/db';

/** The one variable the operator commands (studies, deliveries, users) read. */
export const dbEnvSchema = z.object({ DATABASE_URL: envFields.databaseUrl });

/** Run `f` with a Prisma client on DATABASE_URL (validated; EnvError names it), disconnected after. */
export async function withDb<T>(env: Record<string, string | undefined>, f: (db: Db) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = parseEnv(dbEnvSchema, env);
  const db = createDb(DATABASE_URL);
  try {
    return await f(db);
  } finally {
    await db.$disconnect();
  }
}
