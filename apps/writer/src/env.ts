import { z } from 'zod';
import { defaults, envFields, parseEnv, serviceEnvShape } from '@ldh/config';

/**
 * Destinations as "NAME=AET@host:port" (comma separated), e.g. "PACS=ORTHANC@10.0.0.5:4242".
 * They are synced into the Destination table at start-up.
 */
const destinations = z.string().transform((v, ctx) => {
  const out: Array<{ name: string; aeTitle: string; host: string; port: number }> = [];
  for (const token of v.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,64})=([\x20-\x5b\x5d-\x7e]{1,16})@([^:@\s]+):(\d{1,5})$/.exec(token);
    if (!m || Number(m[4]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `bad destination "${token}" (expected NAME=AET@host:port)` });
      return z.NEVER;
    }
    out.push({ name: m[1]!, aeTitle: m[2]!, host: m[3]!, port: Number(m[4]) });
  }
  return out;
});

/** Environment of the writer role (SR/KOS writing + delivery). */
export const writerEnvSchema = z.object({
  ...serviceEnvShape,
  LDH_AE_TITLE: envFields.aeTitle.default(defaults.aeTitle),
  LDH_DESTINATIONS: destinations.optional(),
  LDH_MANUFACTURER: z.string().max(64).default('LDH triage research prototype'),
  LDH_DELIVERY_TIMEOUT_MS: envFields.positiveInt.default(30_000),
});
export type WriterEnv = z.infer<typeof writerEnvSchema>;

export function loadWriterEnv(source: Record<string, string | undefined>): WriterEnv {
  return parseEnv(writerEnvSchema, source);
}
