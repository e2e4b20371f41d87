/**
 * The storage SCP alone in a child process, so a test can read its RSS honestly.
 * argv: <storeRoot> <maxAssociations> <artimMs>; prints "LISTENING <port>"; on each "rss" line on
 * stdin runs a full GC (needs --expose-gc) and prints "RSS <bytes>". Test support only.
 */
import { createLogger } from '@ldh/config';
import { createInstanceStore } from '@ldh/storage';
import { createStoreScp } from './store-scp.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const [rootDir = '', maxAssociations = '32', artimMs = '30000'] = args;
const store = await createInstanceStore({ rootDir });
const scp = createStoreScp({
  aeTitle: 'LDH_TEST',
  host: '127.0.0.1',
  port: 0,
  store,
  sink: { commit: async () => ({ outcome: 'stored' }) },
  logger: createLogger('scp-child', { level: 'silent' }),
  maxAssociations: Number(maxAssociations),
  associationTimeoutMs: Number(artimMs),
});
const { port } = await scp.listen();
process.stdout.write(`LISTENING ${port}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  for (const line of text.split('\n')) {
    if (line.trim() !== 'rss') continue;
    gc?.();
    gc?.();
    process.stdout.write(`RSS ${process.memoryUsage().rss}\n`);
  }
});
process.stdin.on('end', () => {
  void scp.close().then(() => store.close()).then(() => process.exit(0));
});
