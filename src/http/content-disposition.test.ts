import { describe, expect, it } from 'vitest';
import { attachmentDisposition } from './content-disposition.ts';

describe('attachmentDisposition', () => {
  it('keeps a plain ASCII name as it is', () => {
    expect(attachmentDisposition('AuditLog.csv')).toBe('attachment; filename="AuditLog.csv"');
  });

  it('adds filename* for names no ASCII header can hold, and never sends a non-ASCII byte', () => {
    expect(attachmentDisposition('報告€.txt')).toBe('attachment; filename="___.txt"; filename*=UTF-8\'\'%E5%A0%B1%E5%91%8A%E2%82%AC.txt');
    expect(attachmentDisposition('a"b\\c%d.txt')).toBe('attachment; filename="a_b_c_d.txt"; filename*=UTF-8\'\'a%22b%5Cc%25d.txt');
    expect(attachmentDisposition("it's (1)*é.txt")).toMatch(/filename\*=UTF-8''it%27s%20%281%29%2A%C3%A9\.txt$/);
    expect(attachmentDisposition('tab\there')).toMatch(/^attachment; filename="tab_here"; filename\*=UTF-8''tab%09here$/);
    expect(attachmentDisposition('bad\uD800.txt')).toMatch(/filename\*=UTF-8''bad%EF%BF%BD\.txt$/);
  });
});
