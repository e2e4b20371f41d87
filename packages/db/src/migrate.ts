import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Repository root (holds prisma/ and prisma.config.ts), found from this file in src/ or dist/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Apply committed migrations with the Prisma CLI (`migrate deploy`: never generates or resets,
 * safe on a production database). Uses the offline adapter path configured in prisma.config.ts.
 */
export async function migrateDeploy(databaseUrl: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  if (!existsSync(path.join(repoRoot, 'prisma', 'schema.prisma'))) {
    throw new Error(`prisma/schema.prisma not found under ${repoRoot}`);
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output.slice(-2000)}`));
    });
  });
}
