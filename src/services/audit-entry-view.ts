import { formatDateTime } from '../domain/time.ts';
import { allFields, findModule, metadataId, moduleIndex } from '../domain/modules.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { TIMELINE_SOURCE } from '../domain/audit-query.ts';
import { displayValue } from '../domain/display.ts';
import { NO_DETAILS } from '../domain/audit.ts';

/**
 * Audit entries in Zoho's wire shape: the audit log API's (`auditEntryView`, which SIEM streams
 * send too) and the timeline's. Ids are strings, times ISO 8601 in the organisation's zone.
 */

interface StoredChange { api_name: string; field_label: string; old: unknown; new: unknown }

/** What the entries of a module render the same way every time: its wire reference and its fields' ids. */
interface ModuleMeta {
  ref: Readonly<{ api_name: string; id: string | null }>;
  fields: Map<string, { id: string; type: string }> | null;
}

// Every entry of a page names its module (and its parent's): worked out once per organisation
// and module name as stored, not with a case-folded lookup and BigInt arithmetic per entry. The
// references are shared between answers, so frozen.
const moduleMetas = new Map<string, Map<string, ModuleMeta>>();
const CACHED_ORGS = 1024;

function moduleMeta(orgId: string, apiName: string): ModuleMeta {
  let org = moduleMetas.get(orgId);
  if (!org) {
    if (moduleMetas.size >= CACHED_ORGS) moduleMetas.clear();
    org = new Map();
    moduleMetas.set(orgId, org);
  }
  let meta = org.get(apiName);
  if (!meta) {
    const m = findModule(apiName);
    meta = {
      ref: Object.freeze({ api_name: m?.apiName ?? apiName, id: m ? metadataId(orgId, moduleIndex(m)) : null }),
      fields: m ? new Map(allFields(m).map((f, i) => [f.apiName, { id: metadataId(orgId, moduleIndex(m), i), type: f.type }])) : null,
    };
    // Module names come from stored entries (a closed set per organisation, plus custom modules).
    if (org.size < 4096) org.set(apiName, meta);
  }
  return meta;
}

export const moduleRef = (orgId: string, apiName: string | null) => (apiName ? moduleMeta(orgId, apiName).ref : null);

function fieldHistoryView(orgId: string, module: string | null, details: string) {
  if (details === NO_DETAILS) return { extra: null, fieldHistory: null };
  const parsed = JSON.parse(details) as { field_history: StoredChange[] | null; extra: Record<string, unknown> | null };
  const meta = module && parsed.field_history ? moduleMeta(orgId, module).fields : null;
  return {
    extra: parsed.extra,
    fieldHistory: parsed.field_history?.map((c) => {
      const f = meta?.get(c.api_name);
      return { api_name: c.api_name, field_label: c.field_label, id: f?.id ?? null, data_type: f?.type ?? null,
        _value: { old: displayValue(c.old), new: displayValue(c.new) } };
    }) ?? null,
  };
}

/** One audit log entry on the wire; the same pieces the timeline uses. */
export function auditEntryView(row: AuditEntryTable, tz: string, parentNames: Map<string, string | null>) {
  const { fieldHistory, extra } = fieldHistoryView(row.org_id, row.module, row.details);
  return {
    id: row.id,
    audited_time: formatDateTime(Number(row.audited_at), tz),
    action: row.action,
    done_by: row.actor_id ? { id: row.actor_id, name: row.actor_name } : { id: null, name: row.actor_name, type: row.actor_type },
    module: moduleRef(row.org_id, row.module),
    record: row.record_id || row.record_name ? { id: row.record_id, name: row.record_name } : null,
    parent_record: row.parent_id
      ? { id: row.parent_id, name: parentNames.get(row.parent_id) ?? null, module: moduleRef(row.org_id, row.parent_module) } : null,
    source: row.source,
    ip_address: row.ip,
    user_agent: row.user_agent,
    batch_id: row.batch_id,
    sequence: Number(row.seq),
    field_history: fieldHistory,
    details: extra,
  };
}

/** One `__timeline` entry in Zoho's shape. */
export function timelineEntryView(row: AuditEntryTable, tz: string, parentNames: Map<string, string | null>) {
  const { fieldHistory } = fieldHistoryView(row.org_id, row.module, row.details);
  return {
    id: row.id,
    audited_time: formatDateTime(Number(row.audited_at), tz),
    action: row.action,
    source: TIMELINE_SOURCE[row.source] ?? row.source,
    type: 'timeline',
    done_by: row.actor_id ? { id: row.actor_id, name: row.actor_name } : null,
    record: { id: row.record_id, name: row.record_name, module: moduleRef(row.org_id, row.module) },
    related_record: row.parent_id
      ? { id: row.parent_id, name: parentNames.get(row.parent_id) ?? null, module: moduleRef(row.org_id, row.parent_module) } : null,
    automation_details: null,
    extension: null,
    field_history: fieldHistory,
  };
}
