/**
 * Test support: what pydicom (Debian's python3-pydicom, a third-party DICOM toolkit) decodes
 * from files, so tests compare our decoding with another implementation's instead of with
 * expectations written by hand. Needs `/usr/bin/python3` with pydicom (CI installs it).
 */
import { spawnSync } from 'node:child_process';

/** Debian's system Python (the pyenv one first on PATH has no pydicom). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** One text element as pydicom decodes it: path of keywords (tag hex when private) and item indices. */
export interface PydicomText {
  path: (string | number)[];
  vr: string;
  /** Strings; for PN, the component groups of each value as pydicom's `components`. */
  values: (string | string[])[];
}

export interface PydicomFileText {
  characterSet: string[];
  elements: PydicomText[];
}

const READ_SCRIPT = String.raw`
import json, sys, warnings
import pydicom
from pydicom.multival import MultiValue
warnings.simplefilter('ignore')
TEXT = ('PN', 'SH', 'LO', 'UC', 'ST', 'LT', 'UT')
def walk(ds, path, out):
    for el in ds:
        key = el.keyword or '%08X' % el.tag
        if el.VR == 'SQ':
            for i, item in enumerate(el.value):
                walk(item, path + [key, i], out)
        elif el.VR in TEXT:
            v = el.value
            vals = list(v) if isinstance(v, MultiValue) else ([] if v is None or v == '' else [v])
            vals = [list(p.components) for p in vals] if el.VR == 'PN' else [str(x) for x in vals]
            out.append({'path': path + [key], 'vr': el.VR, 'values': vals})
result = {}
for f in sys.argv[1:]:
    ds = pydicom.dcmread(f)
    cs = ds.get('SpecificCharacterSet', [])
    cs = list(cs) if isinstance(cs, MultiValue) else ([cs] if cs else [])
    out = []
    walk(ds, [], out)
    result[f] = {'characterSet': cs, 'elements': out}
print(json.dumps(result, ensure_ascii=True))
`;

/** Runs a Python script with Debian's python3 and parses its JSON output; fails loudly. */
export function runPython<T>(script: string, args: readonly string[] = []): T {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${SYSTEM_PYTHON} (install python3-pydicom): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** pydicom's decoding of every charset-dependent text element of each file. */
export function pydicomText(files: readonly string[]): Record<string, PydicomFileText> {
  return runPython(READ_SCRIPT, files);
}

/** The folder of pydicom's character-set test files (chrH31.dcm, chrJapMulti.dcm, ...). */
export function pydicomCharsetDir(): string {
  return runPython<string>(`import json, os, pydicom.data as d; print(json.dumps(os.path.join(os.path.dirname(d.__file__), 'charset_files')))`);
}

const MATRIX_SCRIPT = String.raw`
import hashlib, json, sys, warnings
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.charset import encode_string, python_encoding as PE
from pydicom import uid as U
warnings.simplefilter('ignore')
out_dir = sys.argv[1]
def enc(text, cs):
    return encode_string(text, [PE[c] for c in cs])
def seg(parts, codec):
    # parts: (escape bytes, text); text after an escape is encoded with codec, else ASCII.
    raw = b''.join(e + t.encode(codec if e else 'ascii') for e, t in parts)
    ref = ''.join(raw_part.decode(codec if e else 'ascii') for e, raw_part in ((e, t.encode(codec if e else 'ascii')) for e, t in parts))
    return raw, ref
ESC58 = b'\x1b$)A'
cases = []
def case(name, cs, pn, desc, ts=U.ExplicitVRLittleEndian, ref=None):
    cases.append((name, cs, pn, desc, ts, ref))
case('ir101', ['ISO_IR 101'], enc('Wałęsa^Lech', ['ISO_IR 101']), enc('Kręgosłup lędźwiowy', ['ISO_IR 101']))
case('ir109', ['ISO_IR 109'], enc('Ħaġar^Ġużè', ['ISO_IR 109']), enc('Sinsla ġenb', ['ISO_IR 109']))
case('ir110', ['ISO_IR 110'], enc('Šļūkšta^Āris', ['ISO_IR 110']), enc('Mugurkauls sānu', ['ISO_IR 110']))
case('ir148', ['ISO_IR 148'], enc('Öztürk^Işıl', ['ISO_IR 148']), enc('Lomber omurga sagittal T2 ğüşı', ['ISO_IR 148']))
case('ir166', ['ISO_IR 166'], enc('สมชาย^ใจดี', ['ISO_IR 166']), enc('กระดูกสันหลัง T2', ['ISO_IR 166']), U.ImplicitVRLittleEndian)
case('ir13', ['ISO_IR 13'], 'ﾔﾏﾀﾞ^ﾀﾛｳ'.encode('shift_jis'), 'T2 ｻｼﾞﾀﾙ'.encode('shift_jis'), U.ImplicitVRLittleEndian)
case('ir6-87-159', ['ISO 2022 IR 6', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], enc('Kanji=丂^乚', ['ISO 2022 IR 6', 'ISO 2022 IR 87', 'ISO 2022 IR 159']), enc('腰椎 T2 矢状断', ['ISO 2022 IR 6', 'ISO 2022 IR 87']))
case('ir13-87-159', ['ISO 2022 IR 13', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], enc('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^丂=やまだ^たろう', ['ISO 2022 IR 13', 'ISO 2022 IR 87', 'ISO 2022 IR 159']), enc('腰椎 ｻｼﾞﾀﾙ', ['ISO 2022 IR 13', 'ISO 2022 IR 87']))
case('ir13-87-deflated', ['ISO 2022 IR 13', 'ISO 2022 IR 87'], enc('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう', ['ISO 2022 IR 13', 'ISO 2022 IR 87']), enc('腰椎 T2', ['ISO 2022 IR 13', 'ISO 2022 IR 87']), U.DeflatedExplicitVRLittleEndian)
pn58, ref58 = seg([(b'', 'Zhang^San='), (ESC58, '张'), (b'', '^'), (ESC58, '三')], 'gb2312')
d58, dref58 = seg([(ESC58, '腰椎'), (b'', ' T2 '), (ESC58, '矢状位')], 'gb2312')
case('ir58', ['', 'ISO 2022 IR 58'], pn58, d58, ref={'PatientName': ref58.split('='), 'SeriesDescription': dref58})
case('gbk', ['GBK'], enc('Zhang^San=張^三', ['GBK']), enc('腰椎 矢狀位', ['GBK']), U.ImplicitVRLittleEndian)
case('gb18030-4byte', ['GB18030'], enc('Yoshino^Taro=𠮷野^太郎', ['GB18030']), enc('腰椎 𠮷', ['GB18030']))
case('utf8-4byte', ['ISO_IR 192'], enc('Yoshino^Taro=𠮷野^太郎=よしの^たろう', ['ISO_IR 192']), enc('Lendenwirbelsäule 𠮷', ['ISO_IR 192']))
case('ir100-126-bigendian', ['ISO 2022 IR 100', 'ISO 2022 IR 126'], enc('Jérôme^Διονυσιος', ['ISO 2022 IR 100', 'ISO 2022 IR 126']), enc('Σπονδυλική στήλη', ['ISO 2022 IR 100', 'ISO 2022 IR 126']), U.ExplicitVRBigEndian)
# pydicom 2.3 writes the G1 escape once per value and cannot read that back (its decoder
# resets at delimiters); the reference is CPython's codec for the one designated set.
def once(text, cs, esc, codec):
    raw = enc(text, cs)
    return raw, raw.replace(esc, b'').decode(codec)
pn144, ref144 = once('Ivanov^Иван', ['ISO 2022 IR 6', 'ISO 2022 IR 144'], b'\x1b-L', 'iso8859_5')
d144, dref144 = once('Поясничный отдел', ['ISO 2022 IR 6', 'ISO 2022 IR 144'], b'\x1b-L', 'iso8859_5')
case('ir6-144-escape-once', ['ISO 2022 IR 6', 'ISO 2022 IR 144'], pn144, d144, ref={'PatientName': ref144.split('='), 'SeriesDescription': dref144})
pn149, ref149 = once('Hong^Gildong=洪^吉洞=홍^길동', ['', 'ISO 2022 IR 149'], b'\x1b$)C', 'euc_kr')
d149, dref149 = once('요추 시상면 T2', ['', 'ISO 2022 IR 149'], b'\x1b$)C', 'euc_kr')
case('ir149-escape-once', ['', 'ISO 2022 IR 149'], pn149, d149, ref={'PatientName': ref149.split('='), 'SeriesDescription': dref149})
pn203 = 'Lefèvre^Œdipe'.encode('iso8859_15')
d203 = 'Colonne lombaire 15€'.encode('iso8859_15')
case('ir203', ['ISO_IR 203'], pn203, d203, ref={'PatientName': [pn203.decode('iso8859_15')], 'SeriesDescription': d203.decode('iso8859_15')})
result = []
for name, cs, pn, desc, ts, ref in cases:
    ds = Dataset()
    ds.SpecificCharacterSet = cs if len(cs) > 1 else cs[0]
    ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.4'
    h = int(hashlib.sha256(name.encode()).hexdigest()[:30], 16)
    ds.SOPInstanceUID = '2.25.%d1' % h
    ds.StudyInstanceUID = '2.25.%d2' % h
    ds.SeriesInstanceUID = '2.25.%d3' % h
    ds.Modality = 'MR'
    ds.add_new(0x00100010, 'PN', pn)
    ds.add_new(0x0008103E, 'LO', desc)
    ds.PatientID = 'MATRIX-' + name
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.is_little_endian = ts != U.ExplicitVRBigEndian
    ds.is_implicit_VR = ts == U.ImplicitVRLittleEndian
    path = '%s/%s.dcm' % (out_dir, name)
    ds.save_as(path, write_like_original=False)
    result.append({'name': name, 'file': path, 'characterSet': cs, 'transferSyntax': str(ts), 'reference': ref})
print(json.dumps(result, ensure_ascii=True))
`;

/** One file of {@link writeCharsetMatrix}; `reference` is set where pydicom 2.3 decodes wrongly (then CPython's codec decoded it). */
export interface CharsetMatrixFile {
  name: string;
  file: string;
  characterSet: string[];
  transferSyntax: string;
  reference: { PatientName: string[]; SeriesDescription: string } | null;
}

/**
 * Writes, with pydicom, MR headers whose PatientName and SeriesDescription use the character
 * sets pydicom's own test files lack (ISO_IR 101/109/110/148/166/13/203, ISO 2022 IR 159/58,
 * GBK, 4-byte GB18030 and UTF-8, one escape per value, big endian, deflate, implicit VR).
 */
export function writeCharsetMatrix(dir: string): CharsetMatrixFile[] {
  return runPython<CharsetMatrixFile[]>(MATRIX_SCRIPT, [dir]);
}
