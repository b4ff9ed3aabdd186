import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids.ts';

describe('ids', () => {
  it('are 19-digit, increasing, unique strings', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    expect(ids.every((i) => /^\d{19}$/.test(i) && isId(i))).toBe(true);
    expect(new Set(ids).size).toBe(5000);
    expect([...ids].sort()).toEqual(ids);
  });
  it('rejects non-ids', () => {
    for (const v of ['', '0123', 'abc', '99999999999999999999', 12, null]) expect(isId(v)).toBe(false);
  });
});
