/**
 * Real network peers for the worklist channels' integration tests: an MLLP listener
 * (@medplum/hl7's server) whose answer is chosen per test (ACK AA, AE with an ERR segment, or
 * silence), and a FHIR endpoint (node:http) that validates every resource of a transaction with
 * @medplum/core against the R4 definitions, honours `ifNoneExist` (conditional create) and
 * OAuth2 client credentials, and records what it received.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Hl7Message, Hl7Segment } from '@medplum/core';
import { Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { fhirErrors, indexR4Definitions } from '@ldh/worklist/testing';

export type MllpMode = { ack: 'AA' } | { ack: 'AE' | 'AR'; text: string } | { ack: 'silent' };

export interface MllpPeer {
  port: number;
  mode: MllpMode;
  /** Every message received, as text (decoded with `encoding`). */
  received: Hl7Message[];
  close(): Promise<void>;
}

export async function startMllpPeer(port: number, encoding = 'utf-8'): Promise<MllpPeer> {
  const peer: MllpPeer = {
    port,
    mode: { ack: 'AA' },
    received: [],
    close: async () => undefined,
  };
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', ({ message }: Hl7MessageEvent) => {
      peer.received.push(message);
      const mode = peer.mode;
      if (mode.ack === 'silent') return;
      const err = mode.ack === 'AA' ? undefined : new Hl7Segment(['ERR', '', '', '207^Application internal error^HL70357', 'E', '', '', '', mode.text]);
      const ack = message.buildAck({ ackCode: mode.ack, ...(err ? { errSegment: err } : {}) });
      void connection.send(ack);
    });
  });
  server.start(port, encoding);
  const s = server.server as net.Server;
  if (!s.listening) await new Promise<void>((resolve, reject) => s.once('listening', () => resolve()).once('error', reject));
  peer.close = () => server.stop({ forceDrainTimeoutMs: 200 });
  return peer;
}

export type FhirMode = 'ok' | 'store-then-500' | '422';

export interface FhirPeer {
  url: string;
  tokenUrl: string;
  mode: FhirMode;
  /** Stored resources by conditional identifier (ifNoneExist). */
  store: Map<string, Resource>;
  /** Every transaction request: its ifNoneExist values and the validation errors found. */
  requests: Array<{ authorized: boolean; ifNoneExist: string[]; errors: string[] }>;
  close(): Promise<void>;
}

/** A FHIR endpoint; `clientId`/`clientSecret` guard its token endpoint, whose tokens guard the base URL. */
export async function startFhirPeer(port: number, creds: { clientId: string; clientSecret: string }): Promise<FhirPeer> {
  // Index the R4 definitions now (seconds), not inside the first request (the sender's timeout).
  indexR4Definitions();
  const tokens = new Set<string>();
  const peer: FhirPeer = { url: `http://127.0.0.1:${port}/fhir`, tokenUrl: `http://127.0.0.1:${port}/token`, mode: 'ok', store: new Map(), requests: [], close: async () => undefined };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body));
  };
  const outcome = (text: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { text } }] });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/token') {
        const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64');
        if (req.headers.authorization !== `Basic ${basic}` || !new URLSearchParams(body).get('grant_type')) return json(res, 401, { error: 'invalid_client' });
        const token = randomUUID();
        tokens.add(token);
        return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
      }
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const authorized = auth !== undefined && tokens.has(auth);
      let bundle: Bundle;
      try {
        bundle = JSON.parse(body) as Bundle;
      } catch {
        return json(res, 400, outcome('body is not JSON'));
      }
      const entries: BundleEntry[] = bundle.entry ?? [];
      const errors = [...fhirErrors(bundle), ...entries.flatMap((e) => (e.resource ? fhirErrors(e.resource).map((x) => `${e.resource!.resourceType}: ${x}`) : ['entry without resource']))];
      peer.requests.push({ authorized, ifNoneExist: entries.map((e) => e.request?.ifNoneExist ?? ''), errors });
      if (!authorized) return json(res, 401, outcome('no valid bearer token'));
      if (req.method !== 'POST' || bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') return json(res, 400, outcome('expected a transaction Bundle'));
      if (errors.length > 0) return json(res, 400, outcome(errors.join('; ')));
      if (peer.mode === '422') return json(res, 422, outcome(`business rule: subject ${JSON.stringify(entries.at(-1)?.resource && (entries.at(-1)!.resource as { subject?: unknown }).subject)} unknown`));
      const response = entries.map((e) => {
        const key = e.request!.ifNoneExist!;
        if (peer.store.has(key)) return { response: { status: '200 OK' } };
        peer.store.set(key, e.resource!);
        return { response: { status: '201 Created' } };
      });
      if (peer.mode === 'store-then-500') return json(res, 500, outcome('lost the response after committing'));
      return json(res, 200, { resourceType: 'Bundle', type: 'transaction-response', entry: response });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}
