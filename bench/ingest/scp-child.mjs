// Our storage SCP as a separate process for the ingest benchmark (so its RSS is its own):
// durable path = fsync'ed content-addressed file + Postgres row before each ACK.
// argv: <storeRoot> <databaseUrl>; prints "LISTENING <port>"; SIGTERM closes cleanly.
import { createLogger } from '@ldh/config';
import { createStoreScp } from '@ldh/dicom';
import { createInstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, referencedSha256s } from '@ldh/db';

const [rootDir, databaseUrl] = process.argv.slice(2);
const logger = createLogger('bench-scp', { level: 'warn' });
const store = await createInstanceStore({ rootDir });
const db = createDb(databaseUrl);
// Staging files of a killed predecessor: restore what a row references, delete the rest.
await store.recoverStaging((shas) => referencedSha256s(db, shas));
const sink = createIngestSink(db, { actor: `bench:${process.pid}`, databaseUrl });
const scp = createStoreScp({ aeTitle: 'LDH', host: '127.0.0.1', port: 0, store, sink, logger, maxAssociations: 16 });
const { port } = await scp.listen();
process.stdout.write(`LISTENING ${port}\n`);
process.on('SIGTERM', () => {
  void scp
    .close()
    .then(() => sink.close())
    .then(() => store.close())
    .then(() => db.$disconnect())
    .then(() => process.exit(0));
});
