import { z } from 'zod';
import { AE_TITLE_PATTERN, defaults, envFields, parseEnv, serviceEnvShape, tlsAllOrNothing, integerIn } from '@ldh/config';
import { DEFAULT_MAX_PDU_LENGTH } from '@ldh/dicom';

/** A peer allowed to associate: "AE" or "AE@ip"; "*" alone disables the allow-list. */
const peers = z
  .string()
  .transform((v, ctx) => {
    if (v.trim() === '*') return '*' as const;
    const out: Array<{ aeTitle: string; ip?: string }> = [];
    for (const token of v.split(',').map((t) => t.trim()).filter(Boolean)) {
      const [ae, ip] = token.split('@');
      if (!ae || !AE_TITLE_PATTERN.test(ae)) {
        ctx.addIssue({ code: 'custom', message: `bad entry "${token}" (expected AE or AE@ip)` });
        return z.NEVER;
      }
      out.push(ip ? { aeTitle: ae, ip } : { aeTitle: ae });
    }
    return out;
  });

/** Environment of the C-STORE SCP role (see the README's configuration table). */
export const scpEnvSchema = z.object({
  ...serviceEnvShape,
  LDH_AE_TITLE: envFields.aeTitle.default(defaults.aeTitle),
  LDH_SCP_HOST: z.string().default('0.0.0.0'),
  LDH_SCP_PORT: envFields.port.default(defaults.scpPort),
  LDH_ALLOWED_PEERS: peers.default([]),
  LDH_QUIET_PERIOD_MS: envFields.positiveInt.default(defaults.quietPeriodMs),
  LDH_EARLY_SETTLE_MS: envFields.nonNegativeInt.default(defaults.earlySettleMs),
  LDH_SCP_MAX_ASSOCIATIONS: envFields.positiveInt.default(32),
  // SCP processes sharing LDH_SCP_PORT (`ldh serve` forks them with Node's cluster module; Node 20
  // has no SO_REUSEPORT). Each has its own LDH_SCP_MAX_ASSOCIATIONS.
  LDH_SCP_PROCESSES: integerIn(1, 64, 'an integer 1-64').default(1),
  // 128 KiB, the most dcmtk accepts (4096..131072): dataset PDUs are streamed, not assembled, so
  // larger PDUs only mean less per-PDU work for sender and receiver (bench/ingest).
  LDH_SCP_MAX_PDU: envFields.positiveInt.default(DEFAULT_MAX_PDU_LENGTH),
  LDH_SCP_IDLE_TIMEOUT_MS: envFields.positiveInt.default(60_000),
  // PS3.8's ARTIM: connect to A-ASSOCIATE-RQ, and our last PDU (RJ, RP, A-ABORT) to the peer's close.
  LDH_SCP_ARTIM_MS: envFields.positiveInt.default(30_000),
  // How often the reconciler re-derives lost jobs from Postgres (invariant 8); the chaos suite shortens it.
  LDH_RECONCILE_INTERVAL_MS: envFields.positiveInt.default(30_000),
  LDH_MIN_FREE_BYTES: envFields.nonNegativeInt.default(1024 ** 3),
  LDH_SCP_TLS_CERT: z.string().optional(),
  LDH_SCP_TLS_KEY: z.string().optional(),
  LDH_SCP_TLS_CA: z.string().optional(),
});
export type ScpEnv = z.infer<typeof scpEnvSchema>;

export function loadScpEnv(source: Record<string, string | undefined>): ScpEnv {
  return parseEnv(scpEnvSchema, source, [tlsAllOrNothing({ cert: 'LDH_SCP_TLS_CERT', key: 'LDH_SCP_TLS_KEY', ca: 'LDH_SCP_TLS_CA' })]);
}
