import { AppError } from '../domain/errors.ts';
import { requireModule, type FieldDef, type ModuleDef } from '../domain/modules.ts';
import { matchesRecordCriteria, parseRecordCriteria, recordCriteriaJson } from '../domain/record-criteria.ts';
import type { RecordTable } from '../store/schema.ts';
import { readFilterOf, requireModulePermission, requireSetting } from './authorization.ts';
import type { ReadFilter } from '../domain/sharing.ts';
import { inTransaction, type Actor, type ServiceDeps } from './context.ts';
import { BOM, csvRow } from './csv.ts';
import type { RecordService } from './record-service.ts';
import { allFields, recordView, referencedIds } from './record-view.ts';

/** The most records one module data export sends. */
export const MAX_MODULE_EXPORT = 200_000;
const PAGE = 500;

export interface ModuleExportInput {
  /** Field api names: the file's columns after `id`, in this order. Default: every field, in the module's order. */
  fields?: string[];
  /** Zoho's Bulk Read criteria, as JSON text or an object (domain/record-criteria.ts). */
  criteria?: unknown;
}

/** A rendered value as a spreadsheet cell: a lookup's name, a list joined with `;`. */
function cell(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return v.map((x) => cell(x) ?? '').join(';');
  if (typeof v === 'object' && 'name' in v) return String((v as { name: unknown }).name ?? '');
  return JSON.stringify(v);
}

/** A field's stored value as criteria compare it: system fields from their columns, lookups by id. */
function storedValue(row: RecordTable, data: Record<string, unknown>, f: FieldDef): unknown {
  switch (f.apiName) {
    case 'Owner': return row.owner_id;
    case 'Created_By': return row.created_by;
    case 'Modified_By': return row.modified_by;
    case 'Created_Time': return Number(row.created_at);
    case 'Modified_Time': return Number(row.modified_at);
    case 'Full_Name': return row.name;
    case 'What_Id': case 'Parent_Id': return row.parent_id;
  }
  return data[f.apiName];
}

/**
 * The module data export: a module's live records leaving as CSV, the same from the API
 * (`GET /api/v1/modules/{module}/export`) and the CLI (`auditrail records export`).
 */
export function createModuleExportService(deps: ServiceDeps, records: RecordService) {
  const { store } = deps;

  /** Live records the reader may read under the data sharing settings (`readable`), page by page. */
  async function* livePages(orgId: string, module: ModuleDef, readable: ReadFilter | null): AsyncGenerator<RecordTable[]> {
    let after: { value: string; id: string } | undefined;
    for (;;) {
      const rows = await store.repos.records.list({ orgId, module: module.apiName, sort: 'id', desc: false, limit: PAGE, after, converted: 'both',
        readable });
      if (rows.length === 0) return;
      yield rows;
      const last = rows[rows.length - 1];
      after = { value: last.id, id: last.id };
    }
  }

  /**
   * Checks the caller (the module's view permission and the profile permission `export`) and the
   * request, counts the records that meet the criteria, and writes the `exported` entry (module,
   * count, fields, criteria) before anything is read for the file, so that no data leaves without
   * its trace, even if the transfer is cut. `csv()` then yields the file (UTF-8 with BOM, `id`
   * and the fields as columns, formulas neutralised) page by page, in id order.
   * Throws NO_PERMISSION, INVALID_MODULE, INVALID_DATA (`param_name` fields or criteria: an unknown
   * field, bad criteria), MANDATORY_NOT_FOUND (a condition lacking a key), LIMIT_EXCEEDED beyond
   * MAX_MODULE_EXPORT records.
   */
  async function exportModule(actor: Actor, moduleName: string, input: ModuleExportInput = {}) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    requireSetting(actor, 'export');
    const defs = allFields(module);
    const unknown = input.fields?.find((f) => !defs.some((d) => d.apiName === f));
    if (unknown) throw new AppError('INVALID_DATA', `the field ${unknown} is not in ${module.apiName}`, { param_name: 'fields' });
    const fields = input.fields?.length ? [...new Set(input.fields)] : undefined;
    const criteria = input.criteria === undefined ? undefined : parseRecordCriteria(module, input.criteria);
    const meets = (row: RecordTable) => {
      if (!criteria) return true;
      const data = JSON.parse(row.data) as Record<string, unknown>;
      return matchesRecordCriteria(criteria, (f) => storedValue(row, data, f));
    };

    // The records the exporter may read under the data sharing settings, no more.
    const readable = await readFilterOf(store.repos, actor);
    let count = 0;
    if (!criteria) count = await store.repos.records.countLive(actor.orgId, module.apiName, readable);
    else for await (const rows of livePages(actor.orgId, module, readable)) for (const row of rows) if (meets(row)) count += 1;
    if (count > MAX_MODULE_EXPORT) {
      throw new AppError('LIMIT_EXCEEDED', `a module export holds at most ${MAX_MODULE_EXPORT} records; this one would hold ${count}`,
        { limit: MAX_MODULE_EXPORT });
    }
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'exported', module: module.apiName, recordId: null, recordName: null, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null,
        extra: { count, format: 'csv', fields: fields ?? 'all', ...(criteria ? { criteria: recordCriteriaJson(criteria) } : {}) } });
    });

    const columns = ['id', ...(fields ?? defs.map((f) => f.apiName))];
    async function* csv(): AsyncGenerator<string> {
      yield BOM + csvRow(columns);
      for await (const page of livePages(actor.orgId, module, readable)) {
        const rows = page.filter(meets);
        if (rows.length === 0) continue;
        const { users, names } = await records.referenceData(actor, referencedIds(rows, module));
        let chunk = '';
        for (const row of rows) {
          const view = recordView(row, module, { tz: actor.timeZone, users, names, orgId: actor.orgId }, fields);
          chunk += csvRow(columns.map((c) => cell(view[c])));
        }
        yield chunk;
      }
    }
    return { module, count, columns, csv };
  }

  return { exportModule };
}

export type ModuleExportService = ReturnType<typeof createModuleExportService>;
