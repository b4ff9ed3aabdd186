/**
 * OAuth scopes as Zoho names them: `{Service}.{area}[.{sub}].{operation}`, operation one of
 * ALL, READ, CREATE, UPDATE, DELETE. A granted scope covers a required one when service and
 * area match and either it names no sub-area or the same one, and its operation is ALL or equal.
 */
export type Operation = 'READ' | 'CREATE' | 'UPDATE' | 'DELETE' | 'ALL';
const OPERATIONS = new Set(['READ', 'CREATE', 'UPDATE', 'DELETE', 'ALL']);

interface ParsedScope { service: string; area: string; sub: string | null; op: string }

export function parseScope(scope: string): ParsedScope | null {
  const parts = scope.trim().split('.');
  if (parts.length < 3 || parts.length > 4) return null;
  const op = parts[parts.length - 1].toUpperCase();
  if (!OPERATIONS.has(op)) return null;
  return {
    service: parts[0].toLowerCase(),
    area: parts[1].toLowerCase(),
    sub: parts.length === 4 ? parts[2].toLowerCase() : null,
    op,
  };
}

export function isValidScope(scope: string): boolean {
  const p = parseScope(scope);
  return p !== null && (p.service === 'zohocrm' || p.service === 'zohofiles');
}

/** True when any granted scope covers the required one. */
export function scopeCovers(granted: readonly string[], required: string): boolean {
  const r = parseScope(required);
  if (!r) return false;
  return granted.some((g) => {
    const p = parseScope(g);
    if (!p || p.service !== r.service || p.area !== r.area) return false;
    if (p.op !== 'ALL' && p.op !== r.op) return false;
    return p.sub === null || p.sub === r.sub;
  });
}

/** The scope a records call on a module needs, e.g. `ZohoCRM.modules.leads.READ`. */
export const moduleScope = (module: string, op: Operation): string => `ZohoCRM.modules.${module.toLowerCase()}.${op}`;
