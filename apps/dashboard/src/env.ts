import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { envFields, parseEnv, serviceEnvShape } from '@ldh/config';

/**
 * Environment of the dashboard role. The session key is required (LDH_DASHBOARD_SECRET, or
 * LDH_DASHBOARD_SECRET_FILE naming a file that holds it): a key generated at start-up would log
 * everyone out at each restart and differ between replicas, so there is no such fallback.
 */
export const dashboardEnvSchema = z
  .object({
    ...serviceEnvShape,
    LDH_DASHBOARD_PORT: envFields.port.default(8080),
    LDH_DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
    LDH_DASHBOARD_SECRET: z.string().min(32, 'must have at least 32 characters (e.g. openssl rand -base64 48)').optional(),
    LDH_DASHBOARD_SECRET_FILE: z.string().min(1).optional(),
    /** Secure cookies (HTTPS only). Default on; turn off only for plain-HTTP tests on loopback. */
    LDH_DASHBOARD_SECURE_COOKIE: envFields.boolean.default(true),
    /** Session lifetime in seconds (default 8 h). */
    LDH_DASHBOARD_SESSION_TTL_S: envFields.positiveInt.default(8 * 3600),
    /** Failed or successful login attempts allowed per client address and user name per minute. */
    LDH_DASHBOARD_LOGIN_LIMIT: envFields.positiveInt.default(5),
    /** A study in an active state for longer than this is listed as stuck. */
    LDH_DASHBOARD_STUCK_AFTER_MS: envFields.positiveInt.default(15 * 60_000),
    /** Disk-low alert when the storage folder's file system has less free space than this. */
    LDH_DASHBOARD_DISK_ALERT_BYTES: z.coerce.number().int().min(0).default(5 * 1024 ** 3),
    /** How often the server checks Postgres for changes to push to open pages (ms). */
    LDH_DASHBOARD_LIVE_POLL_MS: envFields.positiveInt.default(1_500),
  })
  .transform((e, ctx) => {
    let secret = e.LDH_DASHBOARD_SECRET;
    if (!secret && e.LDH_DASHBOARD_SECRET_FILE) {
      try {
        secret = readFileSync(e.LDH_DASHBOARD_SECRET_FILE, 'utf8').trim();
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['LDH_DASHBOARD_SECRET_FILE'], message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return z.NEVER;
      }
      if (secret.length < 32) {
        ctx.addIssue({ code: 'custom', path: ['LDH_DASHBOARD_SECRET_FILE'], message: 'the file must hold at least 32 characters' });
        return z.NEVER;
      }
    }
    if (!secret) {
      ctx.addIssue({ code: 'custom', path: ['LDH_DASHBOARD_SECRET'], message: 'required (or LDH_DASHBOARD_SECRET_FILE): the key that signs and encrypts session cookies' });
      return z.NEVER;
    }
    return { ...e, LDH_DASHBOARD_SECRET: secret };
  });
export type DashboardEnv = z.infer<typeof dashboardEnvSchema>;

export function loadDashboardEnv(source: Record<string, string | undefined>): DashboardEnv {
  return parseEnv(dashboardEnvSchema as unknown as z.ZodObject, source) as DashboardEnv;
}
