import { Hl7Message } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { buildOruR01, type Hl7Settings } from './oru.js';
import { hl7Escape, messageCharset, messageControlId } from './hl7-text.js';
import { phantomResult } from './testing/phantom-result.js';

const settings: Hl7Settings = { sendingApplication: 'LDH', sendingFacility: 'RADIOLOGY', receivingApplication: 'RIS', receivingFacility: 'HOSP', priorityHint: 'obx' };

const obxRows = (m: Hl7Message) => m.getAllSegments('OBX').map((s) => ({ type: s.getField(2).toString(), code: s.getComponent(3, 1), sub: s.getField(4).toString(), value: s.getField(5).toString(), flag: s.getField(8).toString(), status: s.getField(11).toString() }));

describe('ORU^R01 builder', () => {
  it('writes MSH/PID/ORC/OBR and one OBX group for the study and per level, all preliminary', () => {
    const r = phantomResult();
    const { message, controlId, charset } = buildOruR01(r, settings);
    const parsed = Hl7Message.parse(message.toString());
    const msh = parsed.getSegment('MSH')!;
    expect(msh.getField(9).toString()).toBe('ORU^R01^ORU_R01');
    expect(msh.getField(10).toString()).toBe(controlId);
    expect(msh.getField(12).toString()).toBe('2.5.1');
    expect(msh.getField(18).toString()).toBe(charset.hl7);
    expect(parsed.getSegment('PID')!.getComponent(3, 1)).toBe(r.patient.id);
    expect(parsed.getSegment('PID')!.getComponent(5, 1)).toBe(r.patient.name!.alphabetic.split('^')[0]);
    expect(parsed.getSegment('OBR')!.getField(18).toString()).toBe(r.study.accessionNumber ?? '');
    expect(parsed.getSegment('OBR')!.getField(25).toString()).toBe('P');
    const rows = obxRows(parsed);
    expect(rows.every((o) => o.status === 'P')).toBe(true);
    expect(rows.find((o) => o.code === '121071')!.value).toBe('202708005^Prolapsed lumbar intervertebral disc^SCT');
    expect(rows.filter((o) => o.code === '111012').map((o) => [o.sub, o.value])).toEqual([['1', '91.0'], ['2', '12.0'], ['3', '8.0'], ['4', '21.0'], ['5', '91.0'], ['6', '64.0']]);
    expect(rows.filter((o) => o.code === '363698007').map((o) => o.value.split('^')[0])).toEqual(['122496007', '80064006', '67459009', '62551000', '84020006', '715056000']);
    expect(rows.filter((o) => o.code === '202708005').map((o) => o.value.split('^')[0])).toEqual(['52101004', '272519000', '272519000', '272519000', '52101004', '52101004']);
    expect(rows.find((o) => o.code === 'PRIORITY')!.value.split('^')[0]).toBe('S');
    expect(rows.find((o) => o.code === '110180')!.value).toBe(r.studyInstanceUid);
    expect(rows.find((o) => o.code === '111001')!.value).toBe('LDH-DualAttention');
    expect(rows.find((o) => o.code === '111003')!.value).toBe('1.0.0');
    expect(rows.find((o) => o.code === 'NOTICE')!.value).toMatch(/not for diagnosis/);
  });

  it('is deterministic per delivery: a replay sends the same control id and bytes; another delivery another id', () => {
    const a = buildOruR01(phantomResult(), settings);
    const b = buildOruR01(phantomResult(), settings);
    const c = buildOruR01(phantomResult({ deliveryId: '11111111-2222-4333-8444-555555555555' }), settings);
    expect(a.message.toString()).toBe(b.message.toString());
    expect(c.controlId).not.toBe(a.controlId);
    expect(a.controlId).toBe(messageControlId('6f1c0a52-6c43-4d1e-9a0e-2d1f1d0b7e11'));
    expect(a.controlId.length).toBeLessThanOrEqual(20);
  });

  it('without per-level results writes the study group only', () => {
    const { message } = buildOruR01(phantomResult({ levels: false }), settings);
    expect(obxRows(message).filter((o) => o.code === '111012')).toHaveLength(1);
  });

  it('priority hint orc puts S in ORC-7.6 and TQ1-9; none writes no priority', () => {
    const orc = buildOruR01(phantomResult(), { ...settings, priorityHint: 'orc' }).message;
    expect(orc.getSegment('ORC')!.getComponent(7, 6)).toBe('S');
    expect(orc.getSegment('TQ1')!.getComponent(9, 1)).toBe('S');
    expect(obxRows(orc).some((o) => o.code === 'PRIORITY')).toBe(false);
    const none = buildOruR01(phantomResult(), { ...settings, priorityHint: 'none' }).message;
    expect(none.getSegment('TQ1')).toBeUndefined();
    expect(obxRows(none).some((o) => o.code === 'PRIORITY')).toBe(false);
    const negative = phantomResult();
    negative.finding = { probability: 0.1, threshold: 0.5, positive: false };
    negative.levels = negative.levels!.map((l) => ({ ...l, positive: false }));
    expect(obxRows(buildOruR01(negative, settings).message).find((o) => o.code === 'PRIORITY')!.value.split('^')[0]).toBe('R');
  });

  it('keeps every person-name group of a Japanese (ISO 2022 IR 87) source and declares UTF-8 for it', () => {
    const r = phantomResult({ profile: 'canon' });
    expect(r.patient.name!.ideographic).toBeTruthy();
    const { message, charset } = buildOruR01(r, settings);
    expect(charset).toEqual({ hl7: 'UNICODE UTF-8', encoding: 'utf-8' });
    const reps = message.getSegment('PID')!.getField(5).toString().split('~');
    expect(reps.map((x) => x.split('^')[7])).toEqual(['A', 'I', ...(r.patient.name!.phonetic ? ['P'] : [])]);
    expect(reps[1]!.split('^')[0]).toBe(r.patient.name!.ideographic!.split('^')[0]);
  });

  it('declares the source charset when HL7 names it (Latin-1 → 8859/1, UTF-8 → UNICODE UTF-8, none → ASCII)', () => {
    expect(buildOruR01(phantomResult({ profile: 'ge' }), settings).charset.hl7).toBe('8859/1');
    expect(messageCharset(['ISO_IR 192'])).toEqual({ hl7: 'UNICODE UTF-8', encoding: 'utf-8' });
    expect(messageCharset([])).toEqual({ hl7: 'ASCII', encoding: 'ascii' });
    expect(messageCharset(['', 'ISO 2022 IR 87']).hl7).toBe('UNICODE UTF-8');
  });

  it('escapes the delimiters in values', () => {
    expect(hl7Escape('a|b^c~d\\e&f')).toBe('a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f');
    const r = phantomResult();
    r.algorithm.name = 'A|B^C';
    const parsed = Hl7Message.parse(buildOruR01(r, settings).message.toString());
    expect(obxRows(parsed).find((o) => o.code === '111001')!.value).toBe('A\\F\\B\\S\\C');
  });
});
