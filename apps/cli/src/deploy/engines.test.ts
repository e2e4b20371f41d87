import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The Node version the project supports (package.json engines, .nvmrc, the Docker base image)
// against what every locked package declares, so a dependency that needs a newer Node cannot
// slip in as one more `npm ci` warning.

const root = fileURLToPath(new URL('../../../../', import.meta.url));
type Lock = { packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; version?: string }> };
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as Lock;
const engines = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } }).engines.node;
const minimum = semver.minVersion(engines)!.version;

/**
 * Declared engines we knowingly run below, each with the evidence. dcmjs raised `engines` to
 * >= 22.13 in 0.52 for its own pnpm 11 build and test tooling (dcmjs commit 81e7e11, "Update to
 * node 22.13 or later for testing"); its published bundle is Babel-transpiled and the whole suite
 * runs on Node 20 in CI. The newest dcmjs without the field, 0.51.1, decodes truncated native
 * pixel data as if it were complete (packages/dicom decode-frame.test.ts fails with it), so a
 * downgrade would trade the warning for a silent data error. See README "Node version".
 * cookie 2 and content-disposition 3 (pulled in by Fastify's cookie and static plugins for the
 * dashboard) declare >= 22 too; they are plain CommonJS without Node-22 APIs, and the dashboard's
 * server and browser tests run them on Node 20 in CI.
 */
const KNOWN_EXCEPTIONS: Record<string, string> = { dcmjs: '>=22.13', cookie: '>=22', 'content-disposition': '>=22' };

describe('Node version', () => {
  it('the Node running the tests is one the project supports', () => {
    expect(semver.satisfies(process.version, engines), `${process.version} vs ${engines}`).toBe(true);
  });

  it('.nvmrc names the supported major', () => {
    expect(readFileSync(`${root}.nvmrc`, 'utf8').trim()).toBe(String(semver.major(minimum)));
  });

  it(`every locked package accepts the minimum (${minimum}) except the documented exceptions`, () => {
    const refusing = new Map<string, string>();
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const node = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      // Optional packages are platform binaries npm skips where they do not fit.
      if (!path || !node || pkg.optional || !semver.validRange(node)) continue;
      if (!semver.satisfies(minimum, node)) refusing.set(path.replace(/^.*node_modules\//, ''), node);
    }
    expect(Object.fromEntries(refusing)).toEqual(KNOWN_EXCEPTIONS);
  });
});
