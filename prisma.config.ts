// Prisma CLI configuration: the driver-adapter + JS-engine path, which works fully offline
// (Prisma 6.19; the default path downloads engines). Used by `prisma migrate` and `prisma generate`.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

type PgResult = { fields?: Array<{ dataTypeID: number }> };
type Queryable = { performIO: (query: unknown) => Promise<PgResult | PgResult[]> };
type ScriptRunner = { executeScript(script: string): Promise<void>; underlyingDriver(): { query(sql: string): Promise<unknown> } };

// Two fixes for the offline adapter path, applied to every adapter the CLI opens:
// prisma/prisma#27403: the wasm schema engine cannot deserialize Postgres `name` (OID 19) and
// `char` (OID 18) columns from catalog queries. Report them as `text` (OID 25), once per process.
const patched = new WeakSet<object>();
function patchCatalogTypes<T extends object>(adapter: T): T {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as Queryable & object;
  if (!patched.has(proto)) {
    patched.add(proto);
    const original = proto.performIO;
    proto.performIO = async function (this: unknown, query: unknown) {
      const result = await original.call(this, query);
      // A multi-statement script (simple query protocol) returns one result per statement.
      for (const part of Array.isArray(result) ? result : [result]) {
        for (const field of part.fields ?? []) if (field.dataTypeID === 19 || field.dataTypeID === 18) field.dataTypeID = 25;
      }
      return result;
    };
  }
  // The adapter splits migration scripts on every ';', which breaks function bodies (plpgsql).
  // Send the script whole: pg's simple query protocol runs several statements in one call.
  const runner = adapter as unknown as ScriptRunner;
  runner.executeScript = async (script: string) => {
    await runner.underlyingDriver().query(script);
  };
  return adapter;
}

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    // Discrete fields, not a connectionString: pg lets a connectionString override `database`,
    // which would point Prisma's shadow database at the real one.
    const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
    const fields = {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      ssl: url.searchParams.get('sslmode') === 'require' ? { rejectUnauthorized: false } : undefined,
    };
    const factory = new PrismaPg({ ...fields, database: decodeURIComponent(url.pathname.slice(1)) });
    return {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => patchCatalogTypes(await factory.connect()),
      // The adapter's own shadow-db cleanup drops the database before closing its pool, which
      // Postgres refuses ("being accessed by other users"): close first, then drop.
      connectToShadowDb: async () => {
        const main = await factory.connect();
        const database = `prisma_shadow_${randomUUID().replace(/-/g, '')}`;
        await main.executeScript(`CREATE DATABASE "${database}"`);
        const shadow = patchCatalogTypes(await new PrismaPg({ ...fields, database }).connect());
        const disposeShadow = shadow.dispose.bind(shadow);
        shadow.dispose = async () => {
          await disposeShadow();
          await main.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
          await main.dispose();
        };
        return shadow;
      },
    };
  },
});
