import { describe, expect, it } from 'vitest';
import { evaluatePriority, priorityRulesSchema } from './priority.js';

describe('LDH_PRIORITY_RULES', () => {
  it('parses rules and applies the first match (case-insensitive), routine by default', () => {
    const rules = priorityRulesSchema.parse('RequestedProcedurePriority~^(STAT|HIGH)$=stat; CallingAETitle~^ER_=stat;StudyDescription~research=routine;StudyDescription~spine=stat');
    expect(rules).toHaveLength(4);
    expect(evaluatePriority(rules, { RequestedProcedurePriority: 'stat' })).toBe('stat');
    expect(evaluatePriority(rules, { CallingAETitle: 'ER_MR1' })).toBe('stat');
    expect(evaluatePriority(rules, { StudyDescription: 'research spine' })).toBe('routine');
    expect(evaluatePriority(rules, { StudyDescription: 'L spine' })).toBe('stat');
    expect(evaluatePriority(rules, { AccessionNumber: 'A1' })).toBe('routine');
  });
  it('rejects an unknown field, a missing level and a bad regex with the reason', () => {
    expect(priorityRulesSchema.safeParse('PatientName~x=stat').error?.issues[0]?.message).toContain('bad priority rule');
    expect(priorityRulesSchema.safeParse('StudyDescription~x').success).toBe(false);
    expect(priorityRulesSchema.safeParse('StudyDescription~(=stat').error?.issues[0]?.message).toContain('bad regex');
  });
});
