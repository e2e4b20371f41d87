import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "source" export condition),
// so `vitest run` needs no prior build. Unit tests (*.test.ts) and integration tests (*.int.test.ts,
// against the real Postgres, Redis, dcmtk and Orthanc) are separate projects.

export default defineConfig({
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['packages/*/src/**/*.int.test.ts', 'apps/*/src/**/*.int.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: integration suites start real servers; run files one or two at a time.
          maxWorkers: 2,
          minWorkers: 1,
        },
      },
    ],
  },
});
