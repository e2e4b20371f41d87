/**
 * Parsing of the worklist destinations (zod, with messages naming the bad entry):
 * - LDH_HL7_DESTINATIONS: "NAME=host:port[?sendingApp=A&sendingFacility=F&receivingApp=A&receivingFacility=F&priorityHint=obx|orc|none&timeoutMs=N]", comma separated;
 * - LDH_FHIR_DESTINATIONS: "NAME=https://host/fhir[?token-file=PATH|client-credentials-file=PATH][&patient-system=URI][&timeoutMs=N]", comma separated
 *   (the query is ours and is not sent to the server).
 */
import { z } from 'zod';
import { fhirSettingsSchema, hl7SettingsSchema } from '@ldh/worklist';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export interface WorklistDestinationConfig {
  name: string;
  protocol: 'hl7' | 'fhir';
  host: string;
  port: number;
  settings: Record<string, string | number>;
}

function splitEntries(v: string): string[] {
  return v.split(',').map((t) => t.trim()).filter(Boolean);
}

function parseQuery(query: string, entry: string, keys: Record<string, string>, ctx: z.RefinementCtx): Record<string, string | number> | null {
  const out: Record<string, string | number> = {};
  for (const part of query.split('&').filter(Boolean)) {
    const [k = '', ...rest] = part.split('=');
    const val = decodeURIComponent(rest.join('='));
    const key = keys[k];
    if (!key || rest.length === 0 || val === '') {
      ctx.addIssue({ code: 'custom', message: `bad option "${part}" in "${entry}" (expected one of ${Object.keys(keys).join(', ')} with a value)` });
      return null;
    }
    if (key === 'timeoutMs') {
      const n = Number(val);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `bad timeoutMs "${val}" in "${entry}" (a positive number of milliseconds)` });
        return null;
      }
      out[key] = n;
    } else out[key] = val;
  }
  return out;
}

const HL7_KEYS = { sendingApp: 'sendingApplication', sendingFacility: 'sendingFacility', receivingApp: 'receivingApplication', receivingFacility: 'receivingFacility', priorityHint: 'priorityHint', timeoutMs: 'timeoutMs' };

export const hl7Destinations = z.string().transform((v, ctx) => {
  const out: WorklistDestinationConfig[] = [];
  for (const token of splitEntries(v)) {
    const m = /^([^=]+)=([^:/?\s]+):(\d{1,5})(?:\?(.*))?$/.exec(token);
    if (!m || !NAME.test(m[1]!) || Number(m[3]) > 65535 || Number(m[3]) === 0) {
      ctx.addIssue({ code: 'custom', message: `bad HL7 destination "${token}" (expected NAME=host:port[?sendingApp=..&sendingFacility=..&receivingApp=..&receivingFacility=..&priorityHint=obx|orc|none&timeoutMs=..])` });
      return z.NEVER;
    }
    const settings = parseQuery(m[4] ?? '', m[1]!, HL7_KEYS, ctx);
    if (!settings) return z.NEVER;
    const parsed = hl7SettingsSchema.safeParse(settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      ctx.addIssue({ code: 'custom', message: `HL7 destination "${m[1]}": ${issue.path.join('.')} ${issue.message}` });
      return z.NEVER;
    }
    out.push({ name: m[1]!, protocol: 'hl7', host: m[2]!, port: Number(m[3]), settings: parsed.data as Record<string, string | number> });
  }
  return out;
});

const FHIR_KEYS = { 'token-file': 'tokenFile', 'client-credentials-file': 'clientCredentialsFile', 'patient-system': 'patientIdentifierSystem', timeoutMs: 'timeoutMs' };

export const fhirDestinations = z.string().transform((v, ctx) => {
  const out: WorklistDestinationConfig[] = [];
  for (const token of splitEntries(v)) {
    const m = /^([^=]+)=(https?:\/\/[^?\s]+)(?:\?(.*))?$/.exec(token);
    let url: URL | null = null;
    try {
      url = m ? new URL(m[2]!) : null;
    } catch {
      url = null;
    }
    if (!m || !url || !NAME.test(m[1]!)) {
      ctx.addIssue({ code: 'custom', message: `bad FHIR destination "${token}" (expected NAME=https://host/fhir[?token-file=PATH|client-credentials-file=PATH][&patient-system=URI][&timeoutMs=N])` });
      return z.NEVER;
    }
    const settings = parseQuery(m[3] ?? '', m[1]!, FHIR_KEYS, ctx);
    if (!settings) return z.NEVER;
    const parsed = fhirSettingsSchema.safeParse({ baseUrl: m[2]!, ...settings });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      ctx.addIssue({ code: 'custom', message: `FHIR destination "${m[1]}": ${issue.path.length ? `${issue.path.join('.')} ` : ''}${issue.message}` });
      return z.NEVER;
    }
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    out.push({ name: m[1]!, protocol: 'fhir', host: url.hostname, port, settings: parsed.data as Record<string, string | number> });
  }
  return out;
});
