// Child process of ingest-kill.int.test.ts: a storage SCP backed by the real Postgres sink,
// run through vite-node so it imports the workspace sources. Killed with SIGKILL mid-transfer.
// argv: <storeRoot> <databaseUrl>; prints what startup recovery did, then "LISTENING <port>" once ready.
import { createLogger } from '@ldh/config';
import { createStoreScp } from '@ldh/dicom';
import { createInstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, reconcileInstanceStore, referencedSha256s } from '@ldh/db';

const [rootDir, databaseUrl] = process.argv.slice(-2);
const logger = createLogger('kill-child', { level: 'warn' });
const store = await createInstanceStore({ rootDir });
const db = createDb(databaseUrl);
// Staging files of a killed predecessor: restore what a row references, delete the rest.
const recovered = await store.recoverStaging((shas) => referencedSha256s(db, shas));
const reconciled = await reconcileInstanceStore(db, store, { actor: 'kill-child' });
const sink = createIngestSink(db, { actor: `kill-child:${process.pid}`, databaseUrl });
const scp = createStoreScp({ aeTitle: 'LDH_KILL', host: '127.0.0.1', port: 0, store, sink, logger });
const { port } = await scp.listen();
process.stdout.write(
  `SWEPT ${store.sweptTempFiles}\nRECOVERED ${recovered.restored.length} REMOVED ${recovered.removed}\nMISSING ${reconciled.missingFiles.length} ORPHANS ${reconciled.orphansKept}\nLISTENING ${port}\n`,
);
process.on('SIGTERM', () => {
  void scp
    .close()
    .then(() => sink.close())
    .then(() => store.close())
    .then(() => db.$disconnect())
    .then(() => process.exit(0));
});
