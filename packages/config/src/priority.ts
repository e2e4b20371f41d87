import { z } from 'zod';

/** The study facts a priority rule may test. */
export const PRIORITY_FIELDS = ['RequestedProcedurePriority', 'CallingAETitle', 'StudyDescription', 'AccessionNumber'] as const;
export type PriorityField = (typeof PRIORITY_FIELDS)[number];
export interface PriorityRule {
  field: PriorityField;
  pattern: RegExp;
  priority: 'stat' | 'routine';
}

/**
 * `LDH_PRIORITY_RULES`: semicolon-separated `Field~regex=stat|routine`, first match wins, no
 * match = routine. Regexes are case-insensitive. Example:
 * `RequestedProcedurePriority~^(STAT|HIGH)$=stat;CallingAETitle~^ER_=stat;StudyDescription~trauma=stat`.
 */
export const priorityRulesSchema = z.string().transform((v, ctx) => {
  const rules: PriorityRule[] = [];
  for (const token of v.split(';').map((t) => t.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)~(.+)=(stat|routine)$/.exec(token);
    if (!m || !(PRIORITY_FIELDS as readonly string[]).includes(m[1]!)) {
      ctx.addIssue({ code: 'custom', message: `bad priority rule "${token}" (expected Field~regex=stat|routine, Field one of ${PRIORITY_FIELDS.join(', ')})` });
      return z.NEVER;
    }
    try {
      rules.push({ field: m[1] as PriorityField, pattern: new RegExp(m[2]!, 'i'), priority: m[3] as 'stat' | 'routine' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `bad regex in priority rule "${token}": ${(err as Error).message}` });
      return z.NEVER;
    }
  }
  return rules;
});

/** The first matching rule's priority, or routine. */
export function evaluatePriority(rules: readonly PriorityRule[], facts: Partial<Record<PriorityField, string | undefined>>): 'stat' | 'routine' {
  for (const r of rules) {
    const v = facts[r.field];
    if (v !== undefined && r.pattern.test(v)) return r.priority;
  }
  return 'routine';
}
