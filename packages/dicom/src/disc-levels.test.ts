import { describe, expect, it } from 'vitest';
import { assignAxialDiscLevels, type AxialSliceGeometry } from './disc-levels.js';

/**
 * An oblique axial block of `n` slices centred at (0, y, z) (LPS, mm), tilted `tiltDeg` about the
 * left-right axis, `spacing` apart, 200 mm field of 256 pixels: geometry as a scanner writes it.
 */
function block(prefix: string, z: number, tiltDeg: number, n = 4, spacing = 4.4, y = 0): AxialSliceGeometry[] {
  const t = (tiltDeg * Math.PI) / 180;
  const normal = [0, Math.sin(t), Math.cos(t)];
  const row = [1, 0, 0];
  const col = [0, Math.cos(t), -Math.sin(t)];
  const ps = 200 / 256;
  const half = ((256 - 1) / 2) * ps;
  return Array.from({ length: n }, (_, j) => {
    const along = (j - (n - 1) / 2) * spacing;
    const centre = [normal[0]! * along, y + normal[1]! * along, z + normal[2]! * along];
    const ipp = [0, 1, 2].map((i) => centre[i]! - row[i]! * half - col[i]! * half);
    return { key: `${prefix}-${j}`, imagePositionPatient: ipp, imageOrientationPatient: [...row, ...col], rows: 256, columns: 256, pixelSpacing: [ps, ps] };
  });
}

const levelsOf = (slices: AxialSliceGeometry[]) => {
  const a = assignAxialDiscLevels(slices);
  return Object.fromEntries(slices.map((s) => [s.key, a.levelByKey.get(s.key) ?? null]));
};

describe('assignAxialDiscLevels', () => {
  it('names three tilted blocks L3-L4, L4-L5, L5-S1 from caudal to cranial, whatever the input order', () => {
    // Lordosis: the lower blocks are angled more; 36-40 mm between disc centres.
    const slices = [...block('a', 0, 25), ...block('b', 38, 12), ...block('c', 76, 2)].reverse();
    const got = levelsOf(slices);
    for (let j = 0; j < 4; j++) {
      expect(got[`a-${j}`]).toBe('L5-S1');
      expect(got[`b-${j}`]).toBe('L4-L5');
      expect(got[`c-${j}`]).toBe('L3-L4');
    }
    const a = assignAxialDiscLevels(slices);
    expect(a.blocks.map((b) => b.level)).toEqual(['L5-S1', 'L4-L5', 'L3-L4']);
    expect(a.unplaced).toEqual([]);
  });

  it('splits blocks at an angle change even when they abut', () => {
    // Two blocks 9 mm apart (under the 10 mm gap) but angled 15° apart: two discs.
    const a = assignAxialDiscLevels([...block('a', 0, 20, 2, 4), ...block('b', 9, 5, 2, 4)]);
    expect(a.blocks.map((b) => b.keys.length)).toEqual([2, 2]);
    expect(assignAxialDiscLevels([...block('a', 0, 5, 2, 4), ...block('b', 9, 5, 2, 4)]).blocks).toHaveLength(1);
  });

  it('sees a missing middle level from the distance between blocks', () => {
    // No L4-L5 block: L3-L4 sits two disc spacings above L5-S1.
    const got = levelsOf([...block('a', 0, 20), ...block('c', 74, 5)]);
    expect(got['a-0']).toBe('L5-S1');
    expect(got['c-0']).toBe('L3-L4');
  });

  it('names all five levels of a five-block protocol and nothing above L1-L2', () => {
    const slices = [0, 1, 2, 3, 4, 5].flatMap((k) => block(`k${k}`, k * 36, 20 - 4 * k, 3));
    const a = assignAxialDiscLevels(slices);
    expect(a.blocks.map((b) => b.level)).toEqual(['L5-S1', 'L4-L5', 'L3-L4', 'L2-L3', 'L1-L2', null]);
    expect(a.blocks[5]?.unassignedReason).toBe('above L1-L2');
  });

  it('documented limit: without an L5-S1 block the most caudal block is taken for L5-S1', () => {
    // Axial geometry cannot tell where the sacrum is; this pins the documented behaviour.
    const got = levelsOf([...block('b', 38, 12), ...block('c', 76, 2)]);
    expect(got['b-0']).toBe('L5-S1');
    expect(got['c-0']).toBe('L4-L5');
  });

  it('leaves a contiguous stack through several discs unassigned instead of guessing', () => {
    const a = assignAxialDiscLevels(block('s', 40, 0, 30, 4));
    expect(a.levelByKey.size).toBe(0);
    expect(a.blocks[0]?.unassignedReason).toMatch(/contiguous stack of 116\.0 mm/);
  });

  it('places slices by their centre, not the corner: a 20° tilt moves the corner IPP by ~34 mm', () => {
    // Without rows/columns/pixel spacing the corner is used; with them the centres are 36 mm apart.
    const withCentre = [...block('a', 0, 30, 1), ...block('b', 36, 0, 1)];
    expect(assignAxialDiscLevels(withCentre).blocks.map((b) => b.level)).toEqual(['L5-S1', 'L4-L5']);
  });

  it('reports slices without usable geometry, and sagittal slices, as unplaced', () => {
    const a = assignAxialDiscLevels([
      { key: 'none' },
      { key: 'bad', imagePositionPatient: [0, 0, 0], imageOrientationPatient: [1, 0, 0, 1, 0, 0] },
      { key: 'sag', imagePositionPatient: [0, 0, 0], imageOrientationPatient: [0, 1, 0, 0, 0, -1] },
      ...block('a', 0, 10, 2),
    ]);
    expect(a.unplaced.map((u) => u.key)).toEqual(['none', 'bad', 'sag']);
    expect(a.unplaced[2]?.reason).toMatch(/not an axial slice/);
    expect(a.levelByKey.get('a-0')).toBe('L5-S1');
  });

  it('returns nothing for no slices', () => {
    expect(assignAxialDiscLevels([])).toEqual({ levelByKey: new Map(), blocks: [], unplaced: [] });
  });
});
