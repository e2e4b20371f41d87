import type { PersonName } from '@ldh/dicom';
import type { DiscLevel } from '@ldh/sr';

/** One disc level's result (from InferenceRun.perLevel when the model scores levels). */
export interface LevelFinding {
  level: DiscLevel;
  /** Model probability in [0, 1]. */
  probability: number;
  positive: boolean;
  /** Source images of this level (referenced by UID only). */
  sopInstanceUids?: string[];
}

/**
 * What a worklist message says about one report: the source study's patient/order attributes
 * (read from a source instance at send time, never stored), the result and the model. Built by
 * the pipeline's delivery scheduler; the HL7 and FHIR builders are pure functions of it.
 */
export interface WorklistResult {
  /** Stable ids: the outbox row (HL7 control id), the report and the SR it mirrors. */
  deliveryId: string;
  reportId: string;
  reportVersion: number;
  srSopInstanceUid: string;
  studyInstanceUid: string;
  /** When the report was written: the message / observation time (a replay sends the same). */
  reportedAt: Date;
  patient: {
    id?: string;
    issuer?: string;
    /** All three component groups as decoded by @ldh/dicom's charset reader. */
    name?: PersonName;
    /** DICOM DA (YYYYMMDD). */
    birthDate?: string;
    /** DICOM M / F / O. */
    sex?: string;
  };
  study: {
    accessionNumber?: string;
    placerOrderNumber?: string;
    fillerOrderNumber?: string;
    /** DICOM DA / TM. */
    studyDate?: string;
    studyTime?: string;
    /** The source's Specific Character Set (0008,0005) values ([] = default repertoire). */
    specificCharacterSet: string[];
  };
  finding: {
    probability: number;
    threshold: number;
    positive: boolean;
  };
  /** Per-level results, cranial to caudal, when the run has them. */
  levels?: LevelFinding[];
  algorithm: {
    name: string;
    version: string;
    manufacturer: string;
    /** Device Observer UID of the SR (changes with the weights). */
    deviceUid: string;
    placeholder: boolean;
  };
}

/** The outcome of one send, as the outbox records it. */
export type SendOutcome =
  | { ok: true; detail?: string }
  | { ok: false; permanent: boolean; reason: string; status?: number | null };

export const RESEARCH_NOTICE = 'Research software, not for diagnosis: machine output (preliminary, not verified by a radiologist).';
