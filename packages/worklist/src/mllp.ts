/**
 * Sends an ORU^R01 over MLLP with @medplum/hl7's client and classifies the answer: MSA-1 AA/CA =
 * delivered; AE/AR/CE/CR = permanent failure with the peer's text (MSA-3, ERR-8/ERR-3) scrubbed
 * of the patient values we sent; no connection, a broken one, or no ACK within the timeout =
 * transient (retried with backoff by the outbox). One connection per message, always closed.
 */
import type { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { scrub } from './scrub.js';
import type { SendOutcome } from './types.js';

export interface MllpTarget {
  host: string;
  port: number;
  /** Connect + ACK wait, ms. */
  timeoutMs: number;
}

class AckTimeout extends Error {}

/** What an ACK says, in words: code, MSA-3 text and the ERR segments' codes and texts. */
export function describeAck(ack: Hl7Message): { code: string; text: string; controlId: string } {
  const msa = ack.getSegment('MSA');
  const code = msa?.getField(1)?.toString() ?? '';
  const controlId = msa?.getField(2)?.toString() ?? '';
  const parts = [msa?.getField(3)?.toString() ?? ''];
  for (const err of ack.getAllSegments('ERR')) {
    const hl7Code = err.getComponent(3, 1);
    const hl7Text = err.getComponent(3, 2);
    const user = err.getField(8)?.toString() ?? '';
    const diag = err.getField(7)?.toString() ?? '';
    parts.push([hl7Code && `ERR-3 ${hl7Code}${hl7Text ? ` ${hl7Text}` : ''}`, diag, user].filter(Boolean).join(': '));
  }
  return { code, controlId, text: parts.filter(Boolean).join('; ') };
}

export async function sendOru(t: MllpTarget, message: Hl7Message, encoding: string, phi: readonly string[]): Promise<SendOutcome & { ackCode?: string }> {
  const client = new Hl7Client({ host: t.host, port: t.port, encoding, connectTimeout: t.timeoutMs });
  // The client reports socket errors as events too; the outcome comes from the promise below.
  client.addEventListener('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const ack = await Promise.race([
      client.sendAndWait(message, { timeoutMs: t.timeoutMs + 1_000 }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AckTimeout()), t.timeoutMs);
      }),
    ]);
    const { code, text, controlId } = describeAck(ack);
    const sent = message.getSegment('MSH')?.getField(10)?.toString() ?? '';
    if (controlId && controlId !== sent) return { ok: false, permanent: false, reason: `ACK for another message (MSA-2 ${controlId}, sent ${sent})` };
    if (code === 'AA' || code === 'CA') return { ok: true, detail: `ACK ${code}`, ackCode: code };
    if (code === 'AE' || code === 'AR' || code === 'CE' || code === 'CR') {
      return { ok: false, permanent: true, reason: scrub(`HL7 ${code}${text ? `: ${text}` : ''}`, phi).slice(0, 500), ackCode: code };
    }
    return { ok: false, permanent: false, reason: `unexpected ACK code "${code.slice(0, 8)}"` };
  } catch (err) {
    if (err instanceof AckTimeout) return { ok: false, permanent: false, reason: `no ACK within ${t.timeoutMs} ms` };
    const e = err as NodeJS.ErrnoException;
    return { ok: false, permanent: false, reason: `MLLP connection failed: ${e.code ?? e.message}` };
  } finally {
    if (timer) clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}
