import { z } from 'zod';
import type { Operation, ResponseSpec } from './route.ts';
import { ZohoError } from './schemas.ts';

/** A served route with the declaration it was built from. */
export interface DeclaredRoute { method: string; url: string; public: boolean; operation?: Operation }

type Json = Record<string, unknown>;
const V7 = /^\/crm\/v7\//;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** Path or query parameters from an object schema: one entry per property. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => {
    const { description, ...rest } = p;
    return { name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: rest,
      ...(description ? { description } : {}) };
  });
}

const content = (schema: z.ZodType) => ({ 'application/json': { schema: jsonSchema(schema, 'output') } });

function response(spec: ResponseSpec, status: number): Json {
  if (spec === 'empty') return { description: status === 204 ? 'nothing to return' : 'no body' };
  if ('file' in spec && Array.isArray(spec.file)) {
    return { description: 'the file', content: Object.fromEntries(spec.file.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])) };
  }
  return { description: status === 207 ? 'some items failed' : status >= 400 ? 'every item failed' : 'success', content: content(spec as z.ZodType) };
}

function operationObject(r: DeclaredRoute, op: Operation): Json {
  const errorBody = op.errorWrapper
    ? z.union([ZohoError, z.object({ [op.errorWrapper]: z.array(ZohoError) })]).describe(`Zoho's error body; errors about the item answer inside ${op.errorWrapper}[]`)
    : ZohoError;
  const responses: Json = {};
  for (const [status, spec] of Object.entries(op.responses)) responses[status] = response(spec, Number(status));
  responses.default = { description: 'an error (status per docs/errors.md)', content: content(errorBody) };
  const body = op.body === undefined ? undefined : {
    required: !op.body.safeParse(undefined).success,
    content: Object.fromEntries((op.bodyTypes ?? ['application/json']).map((t) => [t, { schema: jsonSchema(op.body!, 'input') }])),
  };
  return {
    summary: op.summary,
    ...(r.public ? { security: [] } : {}),
    parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query')],
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the routes the app serves, built from the schemas they declare.
 * `/crm/v7/...` serves the same routes as `/crm/v8/...` and is listed once, under v8.
 */
export function openApiDocument(routes: readonly DeclaredRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    if (!r.operation || V7.test(r.url)) continue;
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operationObject(r, r.operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'auditrail', version,
      description: 'A self-hosted, tamper-evident audit log speaking the Zoho CRM REST API v8. Every path under /crm/v8/ '
        + 'is also served under /crm/v7/ (an alias, listed once here). Errors are Zoho\'s body '
        + '{code, details, message, status: "error"}; the codes and their statuses are in docs/errors.md.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        zohoOAuthToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Zoho-oauthtoken {access token}' },
      },
    },
    security: [{ zohoOAuthToken: [] }],
    paths,
  };
}
