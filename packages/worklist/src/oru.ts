/**
 * HL7 v2.5.1 ORU^R01 for one LDH triage result (sr-content.md sec. 7): MSH, PID, ORC, OBR,
 * [TQ1], OBX rows mirroring the SR's measurement groups — the finding (SNOMED CT), the
 * probability (NM, %), the decision, one group per disc level (OBX-4 sub-id), the model name and
 * version, the research notice — all with result status P (preliminary).
 */
import { Hl7Message, Hl7Segment } from '@medplum/core';
import { CODES, DISC_CODES, formatPercent, type Code } from '@ldh/sr';
import { components, hl7DateTime, hl7Escape, hl7Sex, hl7Timestamp, messageCharset, messageControlId, personNameXpn } from './hl7-text.js';
import { RESEARCH_NOTICE, type WorklistResult } from './types.js';

/** Where the "suspected" priority goes: an OBX row, ORC-7.6 + TQ1-9, or nowhere. */
export type PriorityHint = 'obx' | 'orc' | 'none';

export interface Hl7Settings {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  priorityHint: PriorityHint;
}

/** Local codes (coding system 99LDH) for rows no standard code names. */
export const LOCAL_CODES = {
  service: { value: 'LDHAI', scheme: '99LDH', meaning: 'AI triage: lumbar disc herniation' },
  notice: { value: 'NOTICE', scheme: '99LDH', meaning: 'Research software notice' },
  priority: { value: 'PRIORITY', scheme: '99LDH', meaning: 'AI triage worklist priority' },
  studyUid: { value: '110180', scheme: 'DCM', meaning: 'Study Instance UID' },
} as const satisfies Record<string, Code>;

const cwe = (c: Code) => components(c.value, c.meaning, c.scheme === 'SCT' ? 'SCT' : c.scheme);
const PRIORITY_STAT = components('S', 'Stat', 'HL70485');
const PRIORITY_ROUTINE = components('R', 'Routine', 'HL70485');

export interface BuiltOru {
  message: Hl7Message;
  controlId: string;
  /** MSH-18 and the encoding the MLLP client must write the message in. */
  charset: { hl7: string; encoding: string };
}

/** Builds the ORU^R01 (deterministic: the same delivery always gives the same message). */
export function buildOruR01(r: WorklistResult, s: Hl7Settings): BuiltOru {
  const controlId = messageControlId(r.deliveryId);
  const charset = messageCharset(r.study.specificCharacterSet);
  const at = hl7Timestamp(r.reportedAt);
  const suspected = r.finding.positive || (r.levels ?? []).some((l) => l.positive);
  const priority = suspected ? PRIORITY_STAT : PRIORITY_ROUTINE;
  const studyTime = hl7DateTime(r.study.studyDate, r.study.studyTime);
  const placer = r.study.placerOrderNumber ? components(r.study.placerOrderNumber) : '';
  // In radiology the accession number is the filler's order number unless the source names one.
  const filler = components(r.study.fillerOrderNumber ?? r.study.accessionNumber);

  const segments: string[][] = [];
  // MSH: field 1 is the separator itself, field 2 the encoding characters.
  segments.push(['MSH', '^~\\&', components(s.sendingApplication), components(s.sendingFacility), components(s.receivingApplication), components(s.receivingFacility), at, '', 'ORU^R01^ORU_R01', controlId, 'P', '2.5.1', '', '', 'AL', 'NE', '', charset.hl7]);
  segments.push(['PID', '1', '', r.patient.id ? components(r.patient.id, '', '', r.patient.issuer) : '', '', personNameXpn(r.patient.name), '', hl7DateTime(r.patient.birthDate), hl7Sex(r.patient.sex)]);
  // ORC-1 RE: observations to follow; ORC-5 CM; ORC-7 (TQ, kept for v2.3-era receivers) component 6 = priority.
  segments.push(['ORC', 'RE', placer, filler, '', 'CM', '', s.priorityHint === 'orc' ? `^^^^^${suspected ? 'S' : 'R'}` : '', '', at]);
  const obr = ['OBR', '1', placer, filler, cwe(LOCAL_CODES.service), '', '', studyTime, '', '', '', '', '', '', '', '', '', '', components(r.study.accessionNumber), '', '', '', at, '', 'MR', 'P'];
  segments.push(obr);
  if (s.priorityHint === 'orc') segments.push(['TQ1', '1', '', '', '', '', '', '', '', priority]);

  let setId = 0;
  const obx = (subId: string, type: string, code: Code, value: string, extra: { units?: string; range?: string; abnormal?: string } = {}) =>
    segments.push(['OBX', String(++setId), type, cwe(code), subId, value, extra.units ?? '', extra.range ?? '', extra.abnormal ?? '', '', '', 'P', '', '', at]);

  const decision = (positive: boolean) => cwe(positive ? CODES.present : CODES.absent);
  const pct = (p: number) => formatPercent(p);
  const ucumPercent = components('%', 'percent', 'UCUM');
  // Group 1: the study-level result.
  obx('1', 'CWE', CODES.finding, cwe(CODES.prolapsedLumbarDisc));
  obx('1', 'CWE', CODES.findingSite, cwe(CODES.lumbarSpine));
  obx('1', 'NM', CODES.certaintyOfFinding, pct(r.finding.probability), { units: ucumPercent, range: `<${pct(r.finding.threshold)}`, abnormal: r.finding.positive ? 'A' : 'N' });
  obx('1', 'CWE', CODES.prolapsedLumbarDisc, decision(r.finding.positive), { abnormal: r.finding.positive ? 'A' : 'N' });
  // Groups 2..: one per disc level (finding site = the CID 7604 disc).
  (r.levels ?? []).forEach((l, i) => {
    const sub = String(i + 2);
    obx(sub, 'CWE', CODES.findingSite, cwe(DISC_CODES[l.level]));
    obx(sub, 'NM', CODES.certaintyOfFinding, pct(l.probability), { units: ucumPercent, abnormal: l.positive ? 'A' : 'N' });
    obx(sub, 'CWE', CODES.prolapsedLumbarDisc, decision(l.positive), { abnormal: l.positive ? 'A' : 'N' });
  });
  if (s.priorityHint === 'obx') obx('', 'CWE', LOCAL_CODES.priority, priority);
  obx('', 'ST', LOCAL_CODES.studyUid, hl7Escape(r.studyInstanceUid));
  obx('', 'ST', CODES.algorithmName, hl7Escape(r.algorithm.name));
  obx('', 'ST', CODES.algorithmVersion, hl7Escape(r.algorithm.version));
  obx('', 'TX', LOCAL_CODES.notice, hl7Escape(`${r.algorithm.placeholder ? '[PLACEHOLDER MODEL] ' : ''}${RESEARCH_NOTICE}`));

  const message = new Hl7Message(segments.map((fields) => new Hl7Segment(fields)));
  return { message, controlId, charset };
}
