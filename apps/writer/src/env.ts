import { z } from 'zod';
import { defaults, envFields, parseEnv, serviceEnvShape } from '@ldh/config';
import { fhirDestinations, hl7Destinations } from './worklist-env.js';

const DESTINATION = /^([A-Za-z0-9_.-]{1,64})=([\x20-\x5b\x5d-\x7e]{1,16})@([^:@\s?]+):(\d{1,5})(?:\?(.*))?$/;

const SENDABLE = ['sr', 'kos', 'sc'];

/**
 * Destinations as "NAME=AET@host:port[?tls[&ca=PATH][&cert=PATH][&key=PATH]][&send=sr+kos+sc]" (comma separated),
 * e.g. "PACS=ORTHANC@10.0.0.5:4242,ARCHIVE=ARCH@10.0.0.6:2762?tls&ca=/etc/ldh/ca.pem". `tls`
 * turns TLS on (the peer certificate is verified against `ca`, or the system CAs); `cert` and
 * `key` are the client certificate and key (PEM) when the PACS requires one. They are synced
 * into the Destination table at start-up; a destination no longer listed is disabled. `send` picks
 * what the destination receives, joined with "+" (default sr+kos; sc = the Secondary Capture summary).
 */
const destinations = z.string().transform((v, ctx) => {
  const out: Array<{ name: string; aeTitle: string; host: string; port: number; tls: boolean; tlsCaPath: string | null; tlsCertPath: string | null; tlsKeyPath: string | null; sends: string[] }> = [];
  for (const token of v.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = DESTINATION.exec(token);
    if (!m || Number(m[4]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `bad destination "${token}" (expected NAME=AET@host:port[?tls&ca=PATH&cert=PATH&key=PATH])` });
      return z.NEVER;
    }
    const opts = { tls: false, ca: null as string | null, cert: null as string | null, key: null as string | null, send: ['sr', 'kos'] };
    for (const part of (m[5] ?? '').split('&').filter(Boolean)) {
      const [k, ...rest] = part.split('=');
      const val = rest.join('=');
      if (k === 'tls' && rest.length === 0) opts.tls = true;
      else if ((k === 'ca' || k === 'cert' || k === 'key') && val) opts[k] = val;
      else if (k === 'send' && val) {
        const kinds = val.split('+').map((x) => x.trim());
        const bad = kinds.filter((x) => !SENDABLE.includes(x));
        if (bad.length > 0 || new Set(kinds).size !== kinds.length) {
          ctx.addIssue({ code: 'custom', message: `bad send "${val}" in destination "${m[1]}" (expected sr, kos and/or sc joined with +, e.g. send=sr+kos+sc)` });
          return z.NEVER;
        }
        opts.send = kinds;
      } else {
        ctx.addIssue({ code: 'custom', message: `bad destination option "${part}" in "${m[1]}" (expected tls, ca=PATH, cert=PATH, key=PATH or send=sr+kos+sc)` });
        return z.NEVER;
      }
    }
    // TLS is all or nothing: a CA, certificate or key without `tls` is a half-written option, not plain TCP.
    if ((opts.ca || opts.cert || opts.key) && !opts.tls) {
      ctx.addIssue({ code: 'custom', message: `destination "${m[1]}": ca, cert and key need tls (write ?tls&ca=PATH...)` });
      return z.NEVER;
    }
    if (Boolean(opts.cert) !== Boolean(opts.key)) {
      ctx.addIssue({ code: 'custom', message: `destination "${m[1]}": cert and key go together (TLS client authentication needs both)` });
      return z.NEVER;
    }
    if (out.some((o) => o.name === m[1])) {
      ctx.addIssue({ code: 'custom', message: `destination "${m[1]}" is listed twice` });
      return z.NEVER;
    }
    out.push({ name: m[1]!, aeTitle: m[2]!, host: m[3]!, port: Number(m[4]), tls: opts.tls, tlsCaPath: opts.ca, tlsCertPath: opts.cert, tlsKeyPath: opts.key, sends: opts.send });
  }
  return out;
});

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: "72h", "30m", "45s", "500ms", "3d", or a bare number of milliseconds. */
export const duration = z.string().transform((v, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(v.trim());
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `bad duration "${v}" (expected e.g. 72h, 30m, 45s, 500ms, or milliseconds)` });
    return z.NEVER;
  }
  return ms;
});

/** Environment of the writer role (SR/KOS writing + delivery). */
export const writerEnvSchema = z
  .object({
    ...serviceEnvShape,
    LDH_AE_TITLE: envFields.aeTitle.default(defaults.aeTitle),
    LDH_DESTINATIONS: destinations.optional(),
    LDH_HL7_DESTINATIONS: hl7Destinations.optional(),
    LDH_FHIR_DESTINATIONS: fhirDestinations.optional(),
    LDH_MANUFACTURER: z.string().max(64).default('LDH triage research prototype'),
    LDH_DELIVERY_TIMEOUT_MS: envFields.positiveInt.default(30_000),
    LDH_DELIVERY_BACKOFF_BASE_MS: envFields.positiveInt.default(5_000),
    LDH_DELIVERY_BACKOFF_MAX_MS: envFields.positiveInt.default(3_600_000),
    LDH_DELIVERY_GIVE_UP_AFTER: duration.default(72 * 3_600_000),
    LDH_DELIVERY_POLL_MS: envFields.positiveInt.default(1_000),
    LDH_DELIVERY_LEASE_MS: envFields.positiveInt.default(300_000),
    LDH_DELIVERY_CONCURRENCY: envFields.positiveInt.default(2),
    /** 1 (default): each report also gets a Secondary Capture summary image; 0: SR (+ KOS) only. */
    LDH_SC_SUMMARY: z
      .enum(['0', '1'], { message: 'must be 0 or 1' })
      .default('1')
      .transform((v) => v === '1'),
  })
  .superRefine((e, ctx) => {
    // One namespace of destination names across the three lists (a name is a Destination row).
    const seen = new Map<string, string>();
    for (const [variable, list] of [['LDH_DESTINATIONS', e.LDH_DESTINATIONS], ['LDH_HL7_DESTINATIONS', e.LDH_HL7_DESTINATIONS], ['LDH_FHIR_DESTINATIONS', e.LDH_FHIR_DESTINATIONS]] as const) {
      for (const d of list ?? []) {
        const other = seen.get(d.name);
        if (other) ctx.addIssue({ code: 'custom', path: [variable], message: `destination "${d.name}" is also in ${other}` });
        seen.set(d.name, variable);
      }
    }
    if (e.LDH_DELIVERY_BACKOFF_MAX_MS < e.LDH_DELIVERY_BACKOFF_BASE_MS) {
      ctx.addIssue({ code: 'custom', path: ['LDH_DELIVERY_BACKOFF_MAX_MS'], message: `must be at least LDH_DELIVERY_BACKOFF_BASE_MS (${e.LDH_DELIVERY_BACKOFF_BASE_MS})` });
    }
    // A claim must outlive a whole send (two files, each response within the timeout), or a live send is taken over.
    if (e.LDH_DELIVERY_LEASE_MS < 4 * e.LDH_DELIVERY_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['LDH_DELIVERY_LEASE_MS'], message: `must be at least 4 × LDH_DELIVERY_TIMEOUT_MS (${4 * e.LDH_DELIVERY_TIMEOUT_MS})` });
    }
  });
export type WriterEnv = z.infer<typeof writerEnvSchema>;

export function loadWriterEnv(source: Record<string, string | undefined>): WriterEnv {
  return parseEnv(writerEnvSchema, source);
}
