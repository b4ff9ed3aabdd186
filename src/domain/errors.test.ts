import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_STATUS } from './errors.ts';

describe('error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  it.each(Object.entries(ERROR_STATUS))('%s is documented with status %i', (code, status) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `docs/errors.md lacks ${code}`).toBeDefined();
    expect(row!.split('|')[2].trim()).toBe(String(status));
  });

  it('renders the four keys the SDK needs', () => {
    expect(new AppError('NO_PERMISSION', 'permission denied', { permissions: ['x'] }).toBody())
      .toEqual({ code: 'NO_PERMISSION', details: { permissions: ['x'] }, message: 'permission denied', status: 'error' });
  });
});
