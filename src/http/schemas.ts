import { z } from 'zod';

/**
 * The wire shapes the routes declare: what the OpenAPI document is built from, and what the
 * tests check real replies against. Request schemas are as strict as the hand-written checks
 * they replaced, no stricter: where a service answers a precise Zoho error itself, the schema
 * only documents the shape (`documented`).
 */

/** A 19-digit decimal id, always a string on the wire (invariant 6). */
export const Id = z.string().regex(/^\d{1,19}$/).describe('a decimal id, as a string');
/** An ISO 8601 time with seconds and the organisation's offset. */
export const DateTime = z.string().describe('ISO 8601 with seconds and offset, in the organisation\'s time zone');
const Details = z.record(z.string(), z.unknown());

/** Zoho's error body: the four keys the official SDK needs to recognise an error. */
export const ZohoError = z.object({
  code: z.string().describe('an error code of docs/errors.md'), details: Details, message: z.string(), status: z.literal('error'),
}).describe('Zoho\'s error body');

/** One result of Zoho's per-item action envelope. */
export const ActionItem = z.object({ code: z.string(), details: Details, message: z.string(), status: z.enum(['success', 'error']) });
/** `{ key: [result per input item] }`: 200/201 all succeeded, 207 some, 400 none. */
export const actions = (key: string) => z.object({ [key]: z.array(ActionItem) });

/** `{ key: [item, ...] }` and, for lists, the `info` of the page. */
export const list = (key: string, item: z.ZodType) => z.object({ [key]: z.array(item) });
export const page = (key: string, item: z.ZodType, info: z.ZodType = PageInfo) => z.object({ [key]: z.array(item), info });
export const PageInfo = z.looseObject({ per_page: z.number().int(), count: z.number().int(), page: z.number().int(), more_records: z.boolean() });

export const UserRef = z.looseObject({ name: z.string().nullable(), id: Id });
export const NamedRef = z.looseObject({ id: z.string().nullable(), name: z.string().nullable() });
export const ModuleRef = z.looseObject({ api_name: z.string(), id: z.string().nullable() });

/**
 * A request part a service checks itself, with Zoho's exact errors: any value passes here, and
 * the document shows `shape`.
 */
export function documented(shape: z.ZodType, description?: string) {
  const { $schema: _s, ...json } = z.toJSONSchema(shape, { unrepresentable: 'any' });
  return z.unknown().meta({ ...json, ...(description ? { description } : {}) });
}

/**
 * A write body `{ key: [item, ...] }`. The items are checked one by one by the service, which
 * answers each in the reply's array, so one bad item does not fail its neighbours.
 */
export const itemsBody = (key: string, item: z.ZodType) => z.looseObject({ [key]: z.array(documented(item)) });

/** A record as the records API shows it: `id` and its fields by api name. */
export const RecordItem = z.looseObject({ id: Id }).describe('a record: its fields by api_name');
export const RecordInput = z.record(z.string(), z.unknown()).describe('field api_name to value');

/** Path parameters, all strings on the wire. */
export const ModuleName = z.string().describe('a module api_name (Leads, Contacts, ...)');
export const PathId = z.string().describe('a decimal id (checked by the handler: INVALID_DATA with resource_path_index)');
export const moduleParams = z.object({ module: ModuleName });
export const recordParams = z.object({ module: ModuleName, id: PathId });
export const idParams = z.object({ id: PathId });

/** Query parameters the handlers check by hand (exact Zoho messages); documented here. */
export const q = {
  page: z.string().optional().describe('page number, from 1'),
  perPage: z.string().optional().describe('items per page, 1 to 200 (default 200)'),
  ids: z.string().optional().describe('comma-separated ids'),
  pageToken: z.string().optional().describe('the next_page_token of the previous page'),
  sortOrder: z.string().optional().describe('asc or desc'),
  fields: z.string().optional().describe('comma-separated field api_names'),
};

/** The replies of a per-item write: `success` when every item succeeded, 207 some, 400 none. */
export const actionReplies = (key: string, success: 200 | 201) => ({ [success]: actions(key), 207: actions(key), 400: actions(key) });
