import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = InstanceType<typeof PrismaClient>;
/** The transaction client Prisma passes to interactive transactions. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * The one place a Postgres connection is made: Prisma's JS engine over node-postgres
 * (the offline-capable driver-adapter path). `schema` isolates tests that share a database.
 */
export function createDb(databaseUrl: string, opts: { schema?: string; poolSize?: number } = {}): Db {
  const adapter = new PrismaPg(
    { connectionString: databaseUrl, max: opts.poolSize ?? 10 },
    opts.schema ? { schema: opts.schema } : undefined,
  );
  // Generous waits: on a busy 2-core host (or a just-started embedded Postgres) the 2 s default
  // for acquiring a connection for an interactive transaction is too tight.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 30_000 } });
}
