/**
 * Builders for SR content items as dcmjs naturalized objects. Each returns one item of a
 * Content Sequence; children go in `ContentSequence`. Keeping the DICOM keywords in one place
 * means the report builders read like the template tables in sr-content.md.
 */
import { DCMR, type Code } from './codes.js';

export type RelationshipType =
  | 'CONTAINS'
  | 'HAS OBS CONTEXT'
  | 'HAS CONCEPT MOD'
  | 'HAS ACQ CONTEXT'
  | 'HAS PROPERTIES'
  | 'INFERRED FROM';

/** A naturalized content item (or the root dataset's content part). */
export interface ContentItem {
  RelationshipType?: RelationshipType;
  ValueType: 'CONTAINER' | 'CODE' | 'TEXT' | 'UIDREF' | 'NUM' | 'IMAGE';
  ConceptNameCodeSequence?: NaturalCode[];
  ContentSequence?: ContentItem[];
  [keyword: string]: unknown;
}

export interface NaturalCode {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

/** A code as a Code Sequence item. */
export function codeItem(c: Code): NaturalCode {
  return { CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning };
}

function named(rel: RelationshipType | undefined, valueType: ContentItem['ValueType'], name: Code | undefined): ContentItem {
  const item: ContentItem = { ValueType: valueType };
  if (rel !== undefined) item.RelationshipType = rel;
  if (name !== undefined) item.ConceptNameCodeSequence = [codeItem(name)];
  return item;
}

function withChildren(item: ContentItem, children: ContentItem[] | undefined): ContentItem {
  if (children !== undefined && children.length > 0) item.ContentSequence = children;
  return item;
}

/** CONTAINER; `templateId` adds a DCMR Content Template Sequence (e.g. "1500", "1501"). */
export function container(
  rel: RelationshipType | undefined,
  name: Code,
  children: ContentItem[],
  templateId?: string,
): ContentItem {
  const item = named(rel, 'CONTAINER', name);
  item.ContinuityOfContent = 'SEPARATE';
  if (templateId !== undefined) {
    item.ContentTemplateSequence = [
      { MappingResource: DCMR.resource, MappingResourceUID: DCMR.resourceUid, TemplateIdentifier: templateId },
    ];
  }
  return withChildren(item, children);
}

/** CODE item: a coded answer to a coded question (e.g. Finding Site = L4/L5 disc). */
export function codeValue(rel: RelationshipType, name: Code, value: Code, children?: ContentItem[]): ContentItem {
  const item = named(rel, 'CODE', name);
  item.ConceptCodeSequence = [codeItem(value)];
  return withChildren(item, children);
}

/** TEXT item (UT, no length limit that matters here). */
export function text(rel: RelationshipType, name: Code, value: string): ContentItem {
  const item = named(rel, 'TEXT', name);
  item.TextValue = value;
  return item;
}

/** UIDREF item, e.g. Device Observer UID or Tracking Unique Identifier. */
export function uidRef(rel: RelationshipType, name: Code, uid: string): ContentItem {
  const item = named(rel, 'UIDREF', name);
  item.UID = uid;
  return item;
}

/** NUM with one measured value; `numericValue` is already a valid Decimal String. */
export function num(rel: RelationshipType, name: Code, numericValue: string, unit: Code, children?: ContentItem[]): ContentItem {
  const item = named(rel, 'NUM', name);
  item.MeasuredValueSequence = [{ NumericValue: numericValue, MeasurementUnitsCodeSequence: [codeItem(unit)] }];
  return withChildren(item, children);
}

/**
 * IMAGE by reference; KOS items pass `name` undefined (TID 2010 forbids a concept name there).
 * `frameNumbers` (1-based) restrict the reference to those frames of a multi-frame image:
 * Referenced Frame Number (0008,1160), IS, 1-n, inside the Referenced SOP Sequence item.
 */
export function image(
  rel: RelationshipType,
  name: Code | undefined,
  ref: { sopClassUid: string; sopInstanceUid: string; frameNumbers?: readonly number[] },
  children?: ContentItem[],
): ContentItem {
  const item = named(rel, 'IMAGE', name);
  const sop: Record<string, unknown> = { ReferencedSOPClassUID: ref.sopClassUid, ReferencedSOPInstanceUID: ref.sopInstanceUid };
  if (ref.frameNumbers !== undefined && ref.frameNumbers.length > 0) {
    sop.ReferencedFrameNumber = ref.frameNumbers.length === 1 ? ref.frameNumbers[0] : [...ref.frameNumbers];
  }
  item.ReferencedSOPSequence = [sop];
  return withChildren(item, children);
}

/** The reference of one source image: its instance, and its frame when it is one frame of a multi-frame. */
export function imageRef(img: { sopClassUid: string; sopInstanceUid: string; frameNumber?: number }): { sopClassUid: string; sopInstanceUid: string; frameNumbers?: number[] } {
  return img.frameNumber === undefined
    ? { sopClassUid: img.sopClassUid, sopInstanceUid: img.sopInstanceUid }
    : { sopClassUid: img.sopClassUid, sopInstanceUid: img.sopInstanceUid, frameNumbers: [img.frameNumber] };
}

/**
 * One entry per referenced instance, first-seen order (the evidence sequences list instances,
 * never frames: several frames of one multi-frame are one evidence entry).
 */
export function distinctInstances<T extends { sopInstanceUid: string }>(images: readonly T[]): T[] {
  const seen = new Set<string>();
  return images.filter((img) => (seen.has(img.sopInstanceUid) ? false : (seen.add(img.sopInstanceUid), true)));
}
