import { formatDateTime } from '../domain/time.ts';
import { allFields, findModule, metadataId, moduleFields, moduleIndex, type FieldDef, type ModuleDef } from '../domain/modules.ts';
import { fullName } from '../domain/display.ts';
import type { RecordTable, UserTable } from '../store/schema.ts';

/**
 * Records as Zoho returns them (ids as strings, times ISO 8601 in the organisation's zone): what the
 * records API answers and what a module data export writes, so both read the same.
 */

export const userRef = (u: UserTable | undefined, id: string | null) =>
  id === null ? null : { name: u ? fullName(u) : null, id, email: u?.email ?? null };

export { allFields };

export interface RecordViewContext {
  tz: string;
  users: Map<string, UserTable>;
  names: Map<string, { name: string | null; module: string }>;
  orgId: string;
}

/** A record as Zoho returns it; with `fields`, only those (and `id`). */
export function recordView(row: RecordTable, m: ModuleDef, ctx: RecordViewContext, fields?: string[]) {
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const out: Record<string, unknown> = { id: row.id };
  const defs = moduleFields(m);
  const want = fields ? new Set(fields) : null;
  for (const [apiName, f] of defs) {
    if (want && !want.has(apiName)) continue;
    out[apiName] = fieldValue(f, row, data, ctx);
  }
  if (m.dependent === 'what_id' && (!want || want.has('What_Id'))) out.$se_module = row.parent_module;
  if (m.convertable) out.$converted = !!row.converted_at;
  return out;
}

function fieldValue(f: FieldDef, row: RecordTable, data: Record<string, unknown>, ctx: RecordViewContext): unknown {
  switch (f.apiName) {
    case 'Owner': return userRef(ctx.users.get(row.owner_id), row.owner_id);
    case 'Created_By': return userRef(ctx.users.get(row.created_by), row.created_by);
    case 'Modified_By': return userRef(ctx.users.get(row.modified_by), row.modified_by);
    case 'Created_Time': return formatDateTime(row.created_at, ctx.tz);
    case 'Modified_Time': return formatDateTime(row.modified_at, ctx.tz);
    case 'Full_Name': return row.name;
    case 'What_Id':
      return row.parent_id ? { name: ctx.names.get(row.parent_id)?.name ?? null, id: row.parent_id } : null;
    case 'Parent_Id': {
      if (!row.parent_id) return null;
      const pm = findModule(row.parent_module ?? '');
      return { module: { api_name: row.parent_module, id: pm ? metadataId(ctx.orgId, moduleIndex(pm)) : null },
        name: ctx.names.get(row.parent_id)?.name ?? null, id: row.parent_id };
    }
  }
  const v = data[f.apiName];
  if (v === undefined || v === null) return null;
  if (f.type === 'datetime' && typeof v === 'string') return formatDateTime(Date.parse(v), ctx.tz);
  if (f.type === 'lookup' && typeof v === 'object') {
    const id = (v as { id: string }).id;
    return { name: ctx.names.get(id)?.name ?? null, id };
  }
  return v;
}

/** Ids a page of records refers to (lookups and parents), for one batched name query. */
export function referencedIds(rows: RecordTable[], m: ModuleDef): string[] {
  const ids: string[] = [];
  const lookups = m.fields.filter((f) => f.type === 'lookup' && f.lookupModule !== '*');
  for (const row of rows) {
    if (row.parent_id) ids.push(row.parent_id);
    if (lookups.length === 0) continue;
    const data = JSON.parse(row.data) as Record<string, { id?: string } | null>;
    for (const f of lookups) if (data[f.apiName]?.id) ids.push(data[f.apiName]!.id!);
  }
  return ids;
}

