/**
 * The source study's Patient/Study attributes, taken from a header read by @ldh/dicom's
 * charset-aware reader. Person names keep all three component groups (DICOM form
 * "Alphabetic=Ideographic=Phonetic"); the SR/KOS re-encode everything as UTF-8 (ISO_IR 192).
 */
import { formatPersonName, personName, str, type NaturalDataset } from '@ldh/dicom';
import type { SourceStudyHeader } from './types.js';

/**
 * Builds a {@link SourceStudyHeader} from a naturalized source header. Throws the reader's
 * `CharsetError` when one of these attributes could not be decoded: a report must not carry a
 * patient attribute it could not read.
 */
export function sourceStudyHeader(dataset: NaturalDataset, studyInstanceUid: string, characterSet: readonly string[] = []): SourceStudyHeader {
  const pn = (keyword: string): string | undefined => {
    const name = personName(dataset, keyword);
    return name ? formatPersonName(name) : undefined;
  };
  const fields: Partial<SourceStudyHeader> = {
    patientName: pn('PatientName'),
    patientId: str(dataset, 'PatientID'),
    patientBirthDate: str(dataset, 'PatientBirthDate'),
    patientSex: str(dataset, 'PatientSex'),
    studyDate: str(dataset, 'StudyDate'),
    studyTime: str(dataset, 'StudyTime'),
    accessionNumber: str(dataset, 'AccessionNumber'),
    referringPhysicianName: pn('ReferringPhysicianName'),
    studyId: str(dataset, 'StudyID'),
    specificCharacterSet: characterSet.length > 0 ? characterSet.join('\\') : undefined,
  };
  const header: SourceStudyHeader = { studyInstanceUid };
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && v !== '') (header as unknown as Record<string, string>)[k] = v;
  }
  return header;
}
