import { describe, expect, it } from 'vitest';
import type { BinItem } from '../../api/bin.ts';
import { ApiError, toApiError } from '../../api/client.ts';
import { errorFeedback, outcomeFeedback } from './feedback.ts';
import { hasAncestorIn, parentsFirst } from './dependents.ts';

const item = (id: string, name: string, parent?: string): BinItem => ({
  id, display_name: name, module: { api_name: parent ? 'Notes' : 'Leads', id: null }, owner: null, deleted_by: null,
  deleted_time: '2026-01-01T00:00:00Z', parent_record: parent ? { id: parent, module: { api_name: 'Leads' } } : null,
});
const lead = item('1', 'Ines Lopez');
const note = item('2', 'Call notes', '1');
const attachment = item('3', 'scan.pdf', '2');
const byId = new Map([lead, note, attachment].map((i) => [i.id, i]));

describe('acting on the selection', () => {
  it('puts parents before their dependents, keeping the order otherwise', () => {
    expect(parentsFirst([attachment, note, item('9', 'Other'), lead])).toEqual(['9', '1', '2', '3']);
    expect(parentsFirst([note])).toEqual(['2']);
  });

  it('finds an ancestor at any depth', () => {
    expect(hasAncestorIn(attachment, new Set(['1']), byId)).toBe(true);
    expect(hasAncestorIn(lead, new Set(['1']), byId)).toBe(false);
  });
});

describe('feedback', () => {
  it('names the parent still in the bin', () => {
    const f = outcomeFeedback('restore', [{ id: '2', ok: false, code: 'CANNOT_RESTORE_WITHOUT_PARENT', message: 'the parent record 1 is in the recycle bin: restore it first' }],
      byId, new Map());
    expect(f).toEqual({ tone: 'error', title: 'Nothing was restored.', lines: [
      'Call notes cannot be restored while its parent record Ines Lopez is still in the recycle bin. Restore the parent first, or select both.'] });
  });

  it('counts a dependent that came back with its parent as restored', () => {
    const f = outcomeFeedback('restore', [
      { id: '1', ok: true, code: 'SUCCESS', message: 'record restored' },
      { id: '2', ok: false, code: 'INVALID_DATA', message: 'the record is not in the recycle bin' },
    ], byId, new Map());
    expect(f).toEqual({ tone: 'success', title: '2 items restored.', lines: [] });
  });

  it('reports a partial result and permission refusals in words', () => {
    const f = outcomeFeedback('delete', [
      { id: '1', ok: true, code: 'SUCCESS', message: 'record deleted' },
      { id: '3', ok: false, code: 'NO_PERMISSION', message: 'permission denied: delete on Attachments' },
    ], byId, new Map());
    expect(f.tone).toBe('partial');
    expect(f.title).toBe('1 item deleted permanently; 1 item could not be.');
    expect(f.lines).toEqual(['scan.pdf: you do not have permission to delete records of this type.']);
  });

  it('turns a refusal of the whole request into words', () => {
    const err = new ApiError('CANNOT_RESTORE_WITHOUT_PARENT', 400, 'It cannot be restored…', { id: '2' });
    const f = errorFeedback('restore', err, ['2', '3'], byId, new Map());
    expect(f.lines[0]).toMatch(/^Call notes cannot be restored while its parent record Ines Lopez/);
    expect(f.lines[1]).toMatch(/None of the 2 selected items/);
    expect(errorFeedback('delete', new ApiError('NETWORK_ERROR', 0, 'The server cannot be reached.'), ['1'], byId, new Map()).lines)
      .toEqual(['The server cannot be reached.']);
  });

  it('says why each item failed when the server refused every one of them', () => {
    const err = toApiError({ recycle_bin: [
      { code: 'CANNOT_RESTORE_WITHOUT_PARENT', details: { id: '2' }, message: 'the parent is in the recycle bin', status: 'error' },
      { code: 'INVALID_DATA', details: { id: '999' }, message: 'the id given seems to be invalid', status: 'error' },
    ] }, 400);
    const f = errorFeedback('restore', err, ['2', '999'], byId, new Map());
    expect(f.lines).toHaveLength(2);
    expect(f.lines[0]).toMatch(/^Call notes cannot be restored while its parent record Ines Lopez/);
    expect(f.lines[1]).toMatch(/invalid/i);
  });
});
