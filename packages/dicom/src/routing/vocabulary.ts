/**
 * What series, study and protocol descriptions say, read as whole words. Vendors name the same
 * sequence very differently (Siemens "t2_tse_tra_mblock", GE "Ax T2 FRFSE", Philips
 * "sT1W_TSE", Canon "T2WI", Hitachi "T2W FSE SAG", Samsung/United Imaging "t2_fse_sag"), and
 * substring matching misreads them ("BLOCK" contains "LOC"). So text is split into tokens on
 * anything that is not a letter or digit (underscores included), case-folded, and each token is
 * looked up whole — also joined with its neighbour, so "L-SPINE", "3-pl loc" and "Smart Survey"
 * read as LSPINE, 3PL and SMARTSURVEY.
 */

/** Split a description into upper-case word tokens ("t2_tse_tra_mblock" → T2 TSE TRA MBLOCK). */
export function tokenize(text: string | null | undefined): string[] {
  if (!text) return [];
  // NFKD folds full-width Latin (common in Japanese descriptions) and strips accents (SÄULE → SAULE).
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    // "T1+C" → "T1 +C": a contrast marker glued to the weighting.
    .replace(/([A-Z0-9])\+(?=[A-Z0-9])/g, '$1 +');
  const raw = folded.match(/\+?[A-Z0-9]+\+?|[\p{L}\p{N}]+/gu) ?? [];
  return raw.flatMap(splitGlued);
}

/** "T2SAG" → T2 SAG; "AXT2" → AX T2 (sites that drop the separator). */
function splitGlued(token: string): string[] {
  const a = /^(S?T[12](?:W|WI)?)(SAG|AX|TRA|COR)$/.exec(token);
  if (a) return [a[1]!, a[2]!];
  const b = /^(SAG|AX|TRA|COR)(S?T[12](?:W|WI)?)$/.exec(token);
  if (b) return [b[1]!, b[2]!];
  return [token];
}

/** Tokens plus each pair of neighbours joined ("L","SPINE" → LSPINE), for lexicon look-ups. */
export function lookupTerms(tokens: readonly string[]): string[] {
  const out = [...tokens];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]}${tokens[i + 1]}`);
  return out;
}

const words = (...w: string[]): ReadonlySet<string> => new Set(w.flatMap((x) => tokenize(x).join('')));

/** Term classes of the spine MRI vocabulary. Every entry is matched as a whole token. */
export const LEXICON = {
  localizer: words('LOC', 'LOCS', 'LOCALIZER', 'LOCALISER', 'LOCALIZERS', 'SCOUT', 'SURVEY', 'SMARTSURVEY', 'LOCATOR', 'PILOT', 'TRIPLANE', '3PL', '3PLANE', 'PLANSCAN', 'AAHEAD', 'AASPINE', 'AUTOALIGN', 'POSITIONING', 'SCANOGRAM', 'TOPOGRAM'),
  calibration: words('CALIBRATION', 'CAL', 'ASSET', 'REFSCAN', 'SENSEREF', 'COILSURVEY', 'PURE', 'SHIM', 'B1MAP', 'B0MAP'),
  reformat: words('MPR', 'MIP', 'MINIP', 'REFORMAT', 'REFORMATTED', 'REFORMATS', 'PROJECTION', 'RESAMPLED', 'RECONSTRUCTION', 'MPRS'),
  stir: words('STIR', 'TIRM', 'STIRW'),
  diffusion: words('DWI', 'DIFF', 'DIFFUSION', 'ADC', 'TRACE', 'TRACEW', 'EPI', 'DTI', 'RESOLVE', 'EADC', 'FA'),
  myelo: words('MYELO', 'MYELOGRAM', 'MYELOGRAPHY', 'MRM', 'MRMYELO', 'MYELOGRAFIE'),
  gradient: words('GRE', 'FFE', 'MEDIC', 'MERGE', 'FLASH', 'SPGR', 'FSPGR', 'VIBE', 'TFE', 'FL2D', 'FL3D', 'GRASS', 'FIESTA', 'TRUFI', 'BFFE', 'CISS', 'SWI', 'T2STAR', 'T2FFE'),
  singleShot: words('HASTE', 'SSFSE', 'SSH', 'SSTSE', 'FASE', 'SSFP'),
  flair: words('FLAIR', 'T1FLAIR', 'T2FLAIR', 'DARKFLUID'),
  pd: words('PD', 'PDW', 'PDWI', 'PDFS', 'DP'),
  fatSat: words('FS', 'FATSAT', 'FSAT', 'SPAIR', 'SPIR', 'FATSUP', 'DIXON', 'IDEAL', 'FLEX', 'MDIXON', 'CHESS', 'WATER', 'FATSATURATED'),
  contrastPost: words('POST', 'GD', 'GAD', 'GADO', 'KM', 'CM', 'CONTRAST', 'POSTGD', 'POSTKM', 'POSTCONTRAST', 'CE', 'KONTRAST', '+C', 'C+', '+GD', '+KM', '+CM', 'GADOLINIUM'),
  contrastPre: words('PRE', 'PREGD', 'PRECONTRAST', 'NATIV', 'NATIVE', 'NONCONTRAST', 'WITHOUT'),
  block: words('BLOCK', 'MBLOCK', 'BLK', 'BLOCKS', 'MULTIBLOCK', 'MBLK'),
  sagittal: words('SAG', 'SAGITTAL', 'SAGITAL', 'SAGT', 'SAGITTALE', '矢状', '矢状断', '矢状位', '시상'),
  axial: words('AX', 'AXIAL', 'AXI', 'TRA', 'TRANS', 'TRANSVERSAL', 'TRANSVERSE', 'TRANSAXIAL', '横断', '軸位', '横断位', '축상'),
  coronal: words('COR', 'CORONAL', 'CORO', 'KOR', 'KORONAR', '冠状', '冠状断', '관상'),
  lumbar: words('LUMBAR', 'LSPINE', 'LS', 'LWS', 'LUMB', 'LUMBO', 'LUMBOSACRAL', 'LUMBALE', 'LUMBALIS', 'LSP', 'LENDENWIRBELSAULE', 'LOMBAIRE', 'LOMB', 'LOMBARE', 'LWK', 'LSWS', '腰椎', '요추'),
  spine: words('SPINE', 'WS', 'WIRBELSAULE', 'RACHIS', 'COLUMNA', 'COLONNA', 'TLSPINE', 'WHOLESPINE', '脊椎', '척추'),
  otherSpine: words('CSPINE', 'CERVICAL', 'HWS', 'TSPINE', 'THORACIC', 'BWS', 'DORSAL', 'TWS', 'CERVICALE', '頸椎', '頚椎', '胸椎', '경추', '흉추'),
  nonSpine: words(
    'BRAIN', 'HEAD', 'SKULL', 'CRANIUM', 'SCHADEL', 'KOPF', 'CEREBRAL', 'KNEE', 'KNIE', 'SHOULDER', 'SCHULTER', 'HIP', 'HUFTE',
    'PELVIS', 'BECKEN', 'ABDOMEN', 'CHEST', 'BREAST', 'MAMMA', 'PROSTATE', 'LIVER', 'ANKLE', 'FOOT', 'WRIST', 'HAND', 'ELBOW',
    'HEART', 'CARDIAC', 'ORBIT', 'ORBITS', 'PITUITARY', 'IAC', 'NECK', 'ARM', 'LEG', 'THIGH', 'FACE', 'SINUS', 'TMJ', 'KIDNEY',
    'PANCREAS', 'EXTREMITY', '頭部', '脳', '膝', '肩', '머리', '뇌',
  ),
} as const;

export type TermClass = keyof typeof LEXICON;

/** Token-level weighting words: T1/T2 with the usual vendor prefixes and suffixes. */
const T1 = /^[SE]?T1(?:W|WI)?(?:SE|TSE|FSE|FLAIR)?$/;
const T2 = /^[SE]?T2(?:W|WI)?(?:SE|TSE|FSE|FRFSE)?$/;

/** What one description says, by term class, with the tokens that said it. */
export interface DescriptionTerms {
  tokens: string[];
  t1: string[];
  t2: string[];
  hits: Partial<Record<TermClass, string[]>>;
}

/** Read one or more descriptions into term classes. */
export function readTerms(...texts: Array<string | null | undefined>): DescriptionTerms {
  const tokens = texts.flatMap((t) => tokenize(t));
  const terms = lookupTerms(tokens);
  const hits: Partial<Record<TermClass, string[]>> = {};
  // Chinese, Japanese and Korean write words without spaces: their entries match inside a token.
  const cjk = tokens.filter((t) => /[^\p{ASCII}]/u.test(t));
  for (const [cls, set] of Object.entries(LEXICON) as Array<[TermClass, ReadonlySet<string>]>) {
    const found = new Set(terms.filter((t) => set.has(t)));
    for (const entry of set) if (/[^\p{ASCII}]/u.test(entry) && cjk.some((t) => t.includes(entry))) found.add(entry);
    if (found.size > 0) hits[cls] = [...found];
  }
  // "T2*" (gradient echo) loses its star in tokenizing: look at the raw text for it.
  if (texts.some((t) => t && /T2\s*\*/i.test(t))) hits.gradient = [...(hits.gradient ?? []), 'T2*'];
  return {
    tokens,
    t1: [...new Set(tokens.filter((t) => T1.test(t)))],
    t2: [...new Set(tokens.filter((t) => T2.test(t) && t !== 'T2FLAIR'))],
    hits,
  };
}

/** Anatomic region named by a text (BodyPartExamined or a description). */
export type Region = 'lumbar' | 'spine' | 'other-spine' | 'non-spine';

/** Regions a text names, with the words that named them (lumbar beats the rest). */
export function regionsOf(...texts: Array<string | null | undefined>): Partial<Record<Region, string[]>> {
  const { hits } = readTerms(...texts);
  const out: Partial<Record<Region, string[]>> = {};
  if (hits.lumbar) out.lumbar = hits.lumbar;
  if (hits.spine) out.spine = hits.spine;
  if (hits.otherSpine) out['other-spine'] = hits.otherSpine;
  if (hits.nonSpine) out['non-spine'] = hits.nonSpine;
  return out;
}
