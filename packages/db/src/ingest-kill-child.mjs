// Child process of ingest-kill.int.test.ts: a storage SCP backed by the real Postgres sink,
// run through vite-node so it imports the workspace sources. Killed with SIGKILL mid-transfer.
// argv: <storeRoot> <databaseUrl> <killAfterCommit>; prints what startup recovery did, then
// "LISTENING <port>" once ready. killAfterCommit > 0: the write of that instance (1-based) never
// happens and the process SIGKILLs itself as soon as its row has committed — the crash window
// that committing in parallel with the write opens (row committed, file not there, no ACK).
import { createLogger } from '@ldh/config';
import { createStoreScp } from '@ldh/dicom';
import { createInstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, reconcileInstanceStore, referencedSha256s } from '@ldh/db';

const [rootDir, databaseUrl, killAfterCommitArg] = process.argv.slice(-3);
const killAfterCommit = Number(killAfterCommitArg);
const logger = createLogger('kill-child', { level: 'warn' });
const store = await createInstanceStore({ rootDir });
const db = createDb(databaseUrl);
// Staging files of a killed predecessor: restore what a row references, delete the rest.
const recovered = await store.recoverStaging((shas) => referencedSha256s(db, shas));
const reconciled = await reconcileInstanceStore(db, store, { actor: 'kill-child' });
const sink = createIngestSink(db, { actor: `kill-child:${process.pid}`, databaseUrl });
let writes = 0;
let commits = 0;
const scpStore =
  killAfterCommit > 0
    ? { ...store, writeObject: (data, opts) => (++writes === killAfterCommit ? new Promise(() => undefined) : store.writeObject(data, opts)) }
    : store;
const scpSink =
  killAfterCommit > 0
    ? {
        async commit(instance) {
          const result = await sink.commit(instance);
          if (++commits === killAfterCommit) process.kill(process.pid, 'SIGKILL');
          return result;
        },
        associationClosed: (summary) => sink.associationClosed(summary),
        fileNotStored: (instance) => sink.fileNotStored(instance),
        isOverloaded: () => sink.isOverloaded(),
      }
    : sink;
const scp = createStoreScp({ aeTitle: 'LDH_KILL', host: '127.0.0.1', port: 0, store: scpStore, sink: scpSink, logger });
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
