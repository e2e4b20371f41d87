import { describe, expect, it } from 'vitest';
import { EnvError } from '@ldh/config';
import { loadWriterEnv } from './env.js';

const base = { DATABASE_URL: 'postgresql://u@h/db', REDIS_URL: 'redis://h:6379' };

describe('writer env', () => {
  it('parses destinations with TLS options and the delivery durations', () => {
    const env = loadWriterEnv({ ...base, LDH_DESTINATIONS: 'pacs=PACS@10.0.0.5:104, arch=ARCH@h:2762?tls&ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem', LDH_DELIVERY_GIVE_UP_AFTER: '30m' });
    expect(env.LDH_DESTINATIONS).toEqual([
      { name: 'pacs', aeTitle: 'PACS', host: '10.0.0.5', port: 104, tls: false, tlsCaPath: null, tlsCertPath: null, tlsKeyPath: null, sends: ['sr', 'kos'] },
      { name: 'arch', aeTitle: 'ARCH', host: 'h', port: 2762, tls: true, tlsCaPath: '/etc/ca.pem', tlsCertPath: '/etc/c.pem', tlsKeyPath: '/etc/k.pem', sends: ['sr', 'kos'] },
    ]);
    expect(env.LDH_DELIVERY_GIVE_UP_AFTER).toBe(1_800_000);
    expect(loadWriterEnv(base).LDH_DELIVERY_GIVE_UP_AFTER).toBe(72 * 3_600_000);
    expect(loadWriterEnv({ ...base, LDH_DESTINATIONS: 'a=A@h:1?tls' }).LDH_DESTINATIONS?.[0]?.tls).toBe(true);
  });

  it('names the bad variable and why', () => {
    const bad = (extra: Record<string, string>) => {
      try {
        loadWriterEnv({ ...base, ...extra });
      } catch (e) {
        return e instanceof EnvError ? e.message : 'not an EnvError';
      }
      return 'accepted';
    };
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?tls&cert=/c.pem' })).toContain('cert and key go together');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?verify=no' })).toContain('bad destination option "verify=no"');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?ca=/ca.pem' })).toContain('ca, cert and key need tls');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1,a=B@h:2' })).toContain('listed twice');
    expect(bad({ LDH_DELIVERY_GIVE_UP_AFTER: 'forever' })).toContain('LDH_DELIVERY_GIVE_UP_AFTER: bad duration "forever"');
    expect(bad({ LDH_DELIVERY_BACKOFF_BASE_MS: '10000', LDH_DELIVERY_BACKOFF_MAX_MS: '5000' })).toContain('LDH_DELIVERY_BACKOFF_MAX_MS: must be at least LDH_DELIVERY_BACKOFF_BASE_MS');
  });

  it('parses the per-destination send choice and the HL7 / FHIR destinations', () => {
    const env = loadWriterEnv({
      ...base,
      LDH_DESTINATIONS: 'pacs=PACS@h:104?send=sr+sc,viewer=V@h:105?tls&send=sc',
      LDH_HL7_DESTINATIONS: 'ris=ris.example:2575?sendingApp=LDH&sendingFacility=RAD&receivingApp=RIS&receivingFacility=HOSP&priorityHint=orc&timeoutMs=5000, ris2=10.0.0.9:6661',
      LDH_FHIR_DESTINATIONS: 'ehr=https://ehr.example/fhir/R4?token-file=/run/secrets/ehr-token&patient-system=urn:oid:1.2.3,ehr2=http://127.0.0.1:8080/fhir?client-credentials-file=/run/secrets/cc.json',
    });
    expect(env.LDH_DESTINATIONS!.map((d) => d.sends)).toEqual([['sr', 'sc'], ['sc']]);
    expect(env.LDH_HL7_DESTINATIONS).toEqual([
      { name: 'ris', protocol: 'hl7', host: 'ris.example', port: 2575, settings: { sendingApplication: 'LDH', sendingFacility: 'RAD', receivingApplication: 'RIS', receivingFacility: 'HOSP', priorityHint: 'orc', timeoutMs: 5000 } },
      { name: 'ris2', protocol: 'hl7', host: '10.0.0.9', port: 6661, settings: { sendingApplication: 'LDH', sendingFacility: '', receivingApplication: '', receivingFacility: '', priorityHint: 'obx' } },
    ]);
    expect(env.LDH_FHIR_DESTINATIONS).toEqual([
      { name: 'ehr', protocol: 'fhir', host: 'ehr.example', port: 443, settings: { baseUrl: 'https://ehr.example/fhir/R4', tokenFile: '/run/secrets/ehr-token', patientIdentifierSystem: 'urn:oid:1.2.3' } },
      { name: 'ehr2', protocol: 'fhir', host: '127.0.0.1', port: 8080, settings: { baseUrl: 'http://127.0.0.1:8080/fhir', clientCredentialsFile: '/run/secrets/cc.json' } },
    ]);
  });

  it('names the bad worklist entry and why', () => {
    const bad = (extra: Record<string, string>) => {
      try {
        loadWriterEnv({ ...base, ...extra });
      } catch (e) {
        return e instanceof EnvError ? e.message : 'not an EnvError';
      }
      return 'accepted';
    };
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?send=sr+hl7' })).toContain('bad send "sr+hl7" in destination "a"');
    expect(bad({ LDH_HL7_DESTINATIONS: 'ris=host' })).toMatch(/LDH_HL7_DESTINATIONS.*bad HL7 destination "ris=host"/s);
    expect(bad({ LDH_HL7_DESTINATIONS: 'ris=h:2575?priorityHint=zds' })).toMatch(/HL7 destination "ris": priorityHint/);
    expect(bad({ LDH_HL7_DESTINATIONS: 'ris=h:2575?sendingApp=A|B' })).toContain('must not contain HL7 delimiters');
    expect(bad({ LDH_HL7_DESTINATIONS: 'ris=h:2575?colour=red' })).toContain('bad option "colour=red" in "ris"');
    expect(bad({ LDH_FHIR_DESTINATIONS: 'ehr=ftp://x/fhir' })).toContain('bad FHIR destination "ehr=ftp://x/fhir"');
    expect(bad({ LDH_FHIR_DESTINATIONS: 'ehr=https://x/fhir?token-file=/a&client-credentials-file=/b' })).toContain('exclude each other');
    expect(bad({ LDH_DESTINATIONS: 'x=A@h:1', LDH_FHIR_DESTINATIONS: 'x=https://h/fhir' })).toContain('destination "x" is also in LDH_DESTINATIONS');
  });
});
