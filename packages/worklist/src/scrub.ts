/**
 * Peers may echo what we sent in their error text (an HL7 ERR segment, an OperationOutcome):
 * every patient value we sent is replaced by "[redacted]" before the text reaches a log, the
 * audit trail or Delivery.lastError.
 */
export function scrub(text: string, phi: readonly string[]): string {
  let out = text;
  const values = [...new Set(phi.flatMap((v) => [v, ...v.split(/[\^=]/)]).map((v) => v.trim()).filter((v) => v.length >= 2))].sort((a, b) => b.length - a.length);
  for (const v of values) out = out.split(v).join('[redacted]');
  return out;
}

/** The patient values of a result, for {@link scrub}. */
export function phiValues(p: { id?: string; name?: { alphabetic: string; ideographic?: string; phonetic?: string }; birthDate?: string }): string[] {
  return [p.id, p.name?.alphabetic, p.name?.ideographic, p.name?.phonetic, p.birthDate].filter((v): v is string => Boolean(v));
}
