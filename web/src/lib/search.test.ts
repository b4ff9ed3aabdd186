import { describe, expect, it } from 'vitest';
import { hasQualifier, isIpAddress, parseSearch, removeQualifiers, tokenize } from './search.ts';

const vocab = {
  actions: ['added', 'updated', 'deleted', 'restored'],
  sources: ['api', 'crm_ui', 'import'],
  modules: ['Leads', 'Deals', 'Accounts', 'users'],
};

describe('parseSearch', () => {
  it('reads the example of the issue: several qualifiers, a quoted value', () => {
    const r = parseSearch('action:deleted module:Deals user:amelia@zylker.com record:"Acme" ip:10.0.0.1 source:api', vocab);
    expect(r).toEqual({ ok: true, query: {
      actions: ['deleted'], modules: ['Deals'], users: ['amelia@zylker.com'], recordName: 'Acme', ip: '10.0.0.1', sources: ['api'],
    } });
  });

  it('takes free text as a record name search, words joined', () => {
    expect(parseSearch('  acme   corp ', vocab)).toEqual({ ok: true, query: { recordName: 'acme corp' } });
  });

  it('keeps spaces inside quotes, for record: and for free text', () => {
    expect(parseSearch('record:"Acme  Corp Ltd"', vocab)).toEqual({ ok: true, query: { recordName: 'Acme  Corp Ltd' } });
    expect(parseSearch('"Acme Corp" action:added', vocab)).toEqual({ ok: true, query: { recordName: 'Acme Corp', actions: ['added'] } });
  });

  it('is empty for empty text', () => {
    expect(parseSearch('', vocab)).toEqual({ ok: true, query: {} });
    expect(parseSearch('   ', vocab)).toEqual({ ok: true, query: {} });
  });

  it('merges repeated list qualifiers and comma lists, without duplicates', () => {
    const r = parseSearch('action:deleted action:added,deleted module:leads', vocab);
    expect(r).toEqual({ ok: true, query: { actions: ['deleted', 'added'], modules: ['Leads'] } });
  });

  it('matches modules whatever their case, and keys whatever their case', () => {
    expect(parseSearch('Module:DEALS ACTION:Deleted', vocab)).toEqual({ ok: true, query: { modules: ['Deals'], actions: ['deleted'] } });
  });

  it('lower-cases emails', () => {
    expect(parseSearch('user:Amelia@Zylker.com', vocab)).toEqual({ ok: true, query: { users: ['amelia@zylker.com'] } });
  });

  it('says clearly when a qualifier is unknown', () => {
    const r = parseSearch('actor:bob@x.com acme', vocab);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toContain('"actor:" is not a search qualifier');
      expect(r.errors[0]).toContain('action:, module:, user:, record:, ip:, source:');
    }
  });

  it('names unknown actions, sources and modules with the known ones', () => {
    const r = parseSearch('action:removed source:ftp module:Widgets', vocab);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        '"removed" is not an action. Actions are: added, updated, deleted, restored.',
        '"ftp" is not a source. Sources are: api, crm_ui, import.',
        '"Widgets" is not a module. Modules are: Leads, Deals, Accounts, users.',
      ]);
    }
  });

  it('wants an email for user:, an IP address for ip:', () => {
    const r = parseSearch('user:amelia ip:10.0.0.300', vocab);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors[0]).toContain('"user:" takes a user\'s email address');
      expect(r.errors[1]).toBe('"10.0.0.300" is not an IP address (for example ip:10.0.0.1).');
    }
  });

  it('wants a value after a qualifier', () => {
    const r = parseSearch('action: deleted', vocab);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toBe('"action:" needs a value, for example action:deleted.');
  });

  it('refuses an unclosed quote', () => {
    const r = parseSearch('record:"Acme', vocab);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toContain('A quote is not closed');
  });

  it('refuses record: together with free text, and two different ips', () => {
    const a = parseSearch('record:"Acme" widgets', vocab);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.errors[0]).toContain('not both');
    const b = parseSearch('ip:10.0.0.1 ip:10.0.0.2', vocab);
    expect(b.ok).toBe(false);
  });

  it('takes IPv6 addresses', () => {
    expect(parseSearch('ip:2001:db8::1', vocab)).toEqual({ ok: true, query: { ip: '2001:db8::1' } });
  });
});

describe('tokenize', () => {
  it('keeps the raw text of each token', () => {
    expect(tokenize('a record:"x y" b').tokens.map((t) => t.raw)).toEqual(['a', 'record:"x y"', 'b']);
  });
  it('does not take a time or a URL for a qualifier key', () => {
    expect(tokenize('10:30').tokens[0]).toEqual({ raw: '10:30', key: null, value: '10:30' });
  });
});

describe('removeQualifiers and hasQualifier', () => {
  it('drops the qualifiers a control now decides, keeping the rest as typed', () => {
    expect(removeQualifiers('action:deleted record:"Acme Corp" module:Deals ip:10.0.0.1', ['action', 'module']))
      .toBe('record:"Acme Corp" ip:10.0.0.1');
  });
  it('finds a qualifier', () => {
    expect(hasQualifier('acme user:a@b.co', 'user')).toBe(true);
    expect(hasQualifier('acme', 'user')).toBe(false);
  });
});

describe('isIpAddress', () => {
  it('checks IPv4 octets and IPv6 shape', () => {
    expect(isIpAddress('127.0.0.1')).toBe(true);
    expect(isIpAddress('256.0.0.1')).toBe(false);
    expect(isIpAddress('::1')).toBe(true);
    expect(isIpAddress('hello')).toBe(false);
  });
});
