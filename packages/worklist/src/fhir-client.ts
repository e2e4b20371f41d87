/**
 * Sends a transaction Bundle to a FHIR R4 server with Node's fetch (undici): bearer token read
 * from a file at each send, or an OAuth2 client-credentials token (token endpoint, client id
 * and secret from a JSON file) cached until shortly before it expires. 2xx = delivered; 4xx =
 * permanent, with the OperationOutcome text (408/429 transient); 5xx and network errors =
 * transient. Errors never carry what we sent (PHI): the server's text is scrubbed of it.
 */
import { readFile } from 'node:fs/promises';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { z } from 'zod';
import { WorklistConfigError } from './errors.js';
import { scrub } from './scrub.js';
import type { SendOutcome } from './types.js';

export interface FhirTarget {
  /** Base URL of the FHIR server (the transaction is POSTed to it). */
  baseUrl: string;
  tokenFile?: string | null;
  clientCredentialsFile?: string | null;
  timeoutMs: number;
}

const credentialsSchema = z.object({
  tokenUrl: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scope: z.string().optional(),
});

const tokenCache = new Map<string, { token: string; expiresAt: number }>();

async function clientCredentialsToken(file: string, timeoutMs: number): Promise<string> {
  let creds: z.infer<typeof credentialsSchema>;
  try {
    creds = credentialsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new WorklistConfigError(`client-credentials file unreadable or invalid (expected JSON {tokenUrl, clientId, clientSecret, scope?}): ${(err as Error).message.split('\n')[0]}`);
  }
  const key = `${creds.tokenUrl}|${creds.clientId}`;
  const cached = tokenCache.get(key);
  if (cached && cached.expiresAt > Date.now()) return cached.token;
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(creds.scope ? { scope: creds.scope } : {}) });
  const res = await fetch(creds.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.clientSecret)}`).toString('base64')}` },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new TokenError(res.status);
  const json = (await res.json()) as { access_token?: string; expires_in?: number };
  if (!json.access_token) throw new TokenError(res.status);
  tokenCache.set(key, { token: json.access_token, expiresAt: Date.now() + Math.max(0, (json.expires_in ?? 300) - 30) * 1000 });
  return json.access_token;
}

class TokenError extends Error {
  constructor(readonly status: number) {
    super(`token endpoint answered HTTP ${status}`);
  }
}

async function authorization(t: FhirTarget): Promise<Record<string, string>> {
  if (t.tokenFile) {
    const token = (await readFile(t.tokenFile, 'utf8').catch((err: Error) => {
      throw new WorklistConfigError(`token file unreadable: ${err.message.split('\n')[0]}`);
    })).trim();
    if (!token) throw new WorklistConfigError('token file is empty');
    return { authorization: `Bearer ${token}` };
  }
  if (t.clientCredentialsFile) return { authorization: `Bearer ${await clientCredentialsToken(t.clientCredentialsFile, t.timeoutMs)}` };
  return {};
}

/** The OperationOutcome's issue texts (diagnostics / details), or the body's first line. */
export function outcomeText(body: string): string {
  try {
    const oo = JSON.parse(body) as OperationOutcome;
    if (oo.resourceType === 'OperationOutcome' && oo.issue?.length) {
      return oo.issue.map((i) => [i.severity, i.code, i.details?.text ?? i.diagnostics].filter(Boolean).join(' ')).join('; ');
    }
  } catch {
    // not JSON
  }
  return body.split('\n')[0]!.slice(0, 200);
}

/** POSTs the transaction; `phi` lists the values to scrub from any server text kept in errors. */
export async function sendFhirTransaction(t: FhirTarget, bundle: Bundle, phi: readonly string[]): Promise<SendOutcome> {
  let headers: Record<string, string>;
  try {
    headers = await authorization(t);
  } catch (err) {
    if (err instanceof WorklistConfigError) return { ok: false, permanent: true, reason: `FHIR auth: ${err.message}` };
    if (err instanceof TokenError) return { ok: false, permanent: err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429, reason: `FHIR auth: ${err.message}`, status: err.status };
    return { ok: false, permanent: false, reason: `FHIR auth: token endpoint unreachable: ${networkReason(err)}` };
  }
  let res: Response;
  let text: string;
  try {
    res = await fetch(t.baseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...headers },
      body: JSON.stringify(bundle),
      signal: AbortSignal.timeout(t.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    return { ok: false, permanent: false, reason: `FHIR server unreachable: ${networkReason(err)}` };
  }
  if (res.ok) {
    const failed = transactionFailures(text);
    if (failed) return { ok: false, permanent: true, reason: scrub(`transaction response has failing entries: ${failed}`, phi), status: res.status };
    return { ok: true, detail: `HTTP ${res.status}` };
  }
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
  return { ok: false, permanent, reason: scrub(`HTTP ${res.status}: ${outcomeText(text)}`, phi).slice(0, 500), status: res.status };
}

function transactionFailures(body: string): string | null {
  try {
    const b = JSON.parse(body) as Bundle;
    const bad = (b.entry ?? []).map((e) => e.response?.status ?? '').filter((s) => s && !/^2\d\d/.test(s));
    return bad.length > 0 ? bad.join(', ') : null;
  } catch {
    return null;
  }
}

function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
