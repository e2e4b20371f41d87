/** Test helpers that flatten a naturalized SR tree into readable lines. */
interface Node {
  RelationshipType?: string;
  ValueType?: string;
  ConceptNameCodeSequence?: { CodeValue: string; CodingSchemeDesignator: string }[];
  ConceptCodeSequence?: { CodeValue: string; CodingSchemeDesignator: string }[];
  ContentSequence?: Node[];
  TextValue?: string;
  UID?: string;
  MeasuredValueSequence?: { NumericValue: string; MeasurementUnitsCodeSequence: { CodeValue: string }[] }[];
  ReferencedSOPSequence?: { ReferencedSOPInstanceUID: string; ReferencedFrameNumber?: number | number[] }[];
  ContentTemplateSequence?: { TemplateIdentifier: string }[];
}

/** One line per item: "REL VT scheme:code = value". */
export function line(n: Node): string {
  const name = n.ConceptNameCodeSequence?.[0];
  const concept = name ? `${name.CodingSchemeDesignator}:${name.CodeValue}` : '-';
  let value = '';
  if (n.ValueType === 'CODE') {
    const c = n.ConceptCodeSequence?.[0];
    value = ` = ${c?.CodingSchemeDesignator}:${c?.CodeValue}`;
  } else if (n.ValueType === 'TEXT') value = ` = "${n.TextValue}"`;
  else if (n.ValueType === 'UIDREF') value = ` = ${n.UID}`;
  else if (n.ValueType === 'NUM') {
    const m = n.MeasuredValueSequence?.[0];
    value = ` = ${m?.NumericValue} ${m?.MeasurementUnitsCodeSequence[0]?.CodeValue}`;
  } else if (n.ValueType === 'IMAGE') {
    const ref = n.ReferencedSOPSequence?.[0];
    const frames = ref?.ReferencedFrameNumber;
    value = ` = ${ref?.ReferencedSOPInstanceUID}${frames === undefined ? '' : `#${[frames].flat().join(',')}`}`;
  }
  else if (n.ValueType === 'CONTAINER' && n.ContentTemplateSequence) value = ` [TID ${n.ContentTemplateSequence[0]?.TemplateIdentifier}]`;
  return `${n.RelationshipType ?? 'ROOT'} ${n.ValueType} ${concept}${value}`;
}

export const kids = (n: unknown): Node[] => (n as Node).ContentSequence ?? [];

/** Lines of the direct children of `n`. */
export const childLines = (n: unknown): string[] => kids(n).map(line);

/** The first child whose concept name has this code value. */
export function childByCode(n: unknown, code: string, nth = 0): Node {
  const found = kids(n).filter((c) => c.ConceptNameCodeSequence?.[0]?.CodeValue === code)[nth];
  if (!found) throw new Error(`no child ${code}#${nth}`);
  return found;
}
