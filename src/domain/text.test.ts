import { describe, expect, it } from 'vitest';
import { findUnstorable, isStorableText, unstorableReason } from './text.ts';

describe('unstorable text', () => {
  it('refuses lone surrogates and NUL, and nothing else', () => {
    expect(isStorableText('Zoë 😀 \u00a0 tab\t')).toBe(true);
    expect(isStorableText('a\ud800b')).toBe(false);
    expect(isStorableText('a\0b')).toBe(false);
    expect(unstorableReason('fine')).toBeNull();
    expect(unstorableReason('\udc00')).toMatch(/surrogate/);
    expect(unstorableReason('\0')).toMatch(/NUL/);
  });

  it('finds the first unstorable string in a JSON value, keys included, with its path', () => {
    expect(findUnstorable({ data: [{ Last_Name: 'ok' }] })).toBeNull();
    expect(findUnstorable({ data: [{ Last_Name: 'ok' }, { Company: 'x\0' }] })).toEqual({ jsonPath: '$.data[1].Company', reason: expect.stringMatching(/NUL/) });
    expect(findUnstorable({ data: [{ 'Bad\ud800': 1 }] })).toEqual({ jsonPath: '$.data[0]["Bad\\ud800"]', reason: expect.stringMatching(/surrogate/) });
    expect(findUnstorable(['a', 'b\0'], '$.ids')).toMatchObject({ jsonPath: '$.ids[1]' });
    expect(findUnstorable(42)).toBeNull();
  });
});
