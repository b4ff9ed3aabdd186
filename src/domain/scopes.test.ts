import { describe, expect, it } from 'vitest';
import { scopeCovers } from './scopes.ts';

describe('scopes', () => {
  it('covers by service, area, optional module and operation', () => {
    expect(scopeCovers(['ZohoCRM.modules.ALL'], 'ZohoCRM.modules.leads.READ')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.READ'], 'ZohoCRM.modules.leads.READ')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.Leads.ALL'], 'ZohoCRM.modules.leads.DELETE')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.contacts.ALL'], 'ZohoCRM.modules.leads.READ')).toBe(false);
    expect(scopeCovers(['ZohoCRM.modules.READ'], 'ZohoCRM.modules.leads.CREATE')).toBe(false);
    expect(scopeCovers(['ZohoCRM.settings.ALL'], 'ZohoCRM.settings.audit_logs.CREATE')).toBe(true);
    expect(scopeCovers(['ZohoCRM.settings.roles.ALL'], 'ZohoCRM.settings.profiles.READ')).toBe(false);
    expect(scopeCovers(['ZohoCRM.users.ALL'], 'ZohoFiles.files.READ')).toBe(false);
  });
});
