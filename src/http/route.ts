import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../domain/errors.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
const METHODS: Method[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

/** A route's params, query and body, each checked against its schema when first read. */
export interface Input<P extends Schema, Q extends Schema, B extends Schema> {
  readonly params: Out<P>;
  readonly query: Out<Q>;
  readonly body: Out<B>;
}

/** What a reply of one status carries: JSON of a schema, nothing (204), or a file of these types. */
export type ResponseSpec = z.ZodType | 'empty' | { file: string[] };

/**
 * One verb of a route: its schemas (which the OpenAPI document is built from), how its errors are
 * wrapped, and its handler.
 */
export interface Operation<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> {
  summary: string;
  /** Path parameters (strings). */
  params?: P;
  /** Query parameters; a repeated key is read as its first value, as the handlers always did. */
  query?: Q;
  /** The body; a violation answers MANDATORY_NOT_FOUND or INVALID_DATA with the json_path. */
  body?: B;
  /** Body media types other than JSON (the token endpoint's forms). */
  bodyTypes?: string[];
  /** The replies by status, errors aside (every route can answer the Zoho error body). */
  responses: Record<number, ResponseSpec>;
  /**
   * The wrapper array (`merge`, `data`, `audit_log_export`) that per-item errors are answered in,
   * `{"merge": [{code, details, message, status: "error"}]}`, as Zoho does; others stay bare.
   */
  errorWrapper?: string;
  handler(request: FastifyRequest, reply: FastifyReply, input: Input<P, Q, B>): Promise<unknown>;
}

/** Declares one verb of a route; the identity, there for the types to flow from schemas to handler. */
export function op<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined>(
  operation: Operation<P, Q, B>): Operation<P, Q, B> {
  return operation;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (the token endpoint, health, the public key). */
    public?: boolean;
    /** A verb the path really has, rather than the INVALID_REQUEST_METHOD answer. */
    declared?: boolean;
    /** The declaration the verb was built from (schemas, error wrapper). */
    operation?: Operation;
  }
}

const jsonPath = (path: PropertyKey[]) => `$${path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}`;
const valueAt = (value: unknown, path: PropertyKey[]) =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
const JSON_TYPES: Record<string, string> = { array: 'jsonarray', object: 'jsonobject' };

/** A schema violation as the Zoho error the hand-written checks answered before the schemas. */
function zohoError(part: 'params' | 'query' | 'body', issue: z.core.$ZodIssue, value: unknown): AppError {
  if (part !== 'body') return new AppError('INVALID_DATA', `invalid value for ${String(issue.path[0])}`, { param_name: String(issue.path[0]) });
  if (issue.path.length === 0) {
    if (value === undefined || value === null) {
      return new AppError('MANDATORY_NOT_FOUND', 'request body is missing', { api_name: 'data', json_path: '$.data' });
    }
    return new AppError('INVALID_DATA', 'the request body must be a JSON object', { expected_data_type: 'jsonobject', json_path: '$' });
  }
  const apiName = String([...issue.path].reverse().find((k) => typeof k === 'string') ?? '');
  const at = valueAt(value, issue.path);
  if (at === undefined || at === null) {
    return new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: apiName, json_path: jsonPath(issue.path) });
  }
  const expected = issue.code === 'invalid_type' ? JSON_TYPES[issue.expected] ?? issue.expected : undefined;
  return new AppError('INVALID_DATA', 'invalid data', { api_name: apiName, json_path: jsonPath(issue.path), ...(expected ? { expected_data_type: expected } : {}) });
}

/**
 * A request part checked against a schema, a violation answered as Zoho's error. For a route
 * whose body takes two forms (JSON or multipart), the handler checks the JSON form with this.
 */
export function checked<S extends z.ZodType>(part: 'params' | 'query' | 'body', schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw zohoError(part, r.error.issues[0], value);
  return r.data;
}

const firstValues = (query: unknown) => Object.fromEntries(Object.entries((query ?? {}) as Record<string, unknown>)
  .map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));

/**
 * The input of a request, each part checked on first read: handlers read it after their scope
 * check, so a caller without the scope learns nothing about the shape of the input.
 */
function inputOf(request: FastifyRequest, operation: Operation): Input<Schema, Schema, Schema> {
  const parse = (part: 'params' | 'query' | 'body', raw: unknown) => {
    const schema = operation[part];
    return schema ? checked(part, schema, raw) : undefined;
  };
  const cache = new Map<string, unknown>();
  const read = (part: 'params' | 'query' | 'body', raw: () => unknown) => {
    if (!cache.has(part)) cache.set(part, parse(part, raw()));
    return cache.get(part);
  };
  return {
    get params() { return read('params', () => request.params); },
    get query() { return read('query', () => firstValues(request.query)); },
    get body() { return read('body', () => request.body); },
  } as Input<Schema, Schema, Schema>;
}

const notThisVerb = async () => {
  throw new AppError('INVALID_REQUEST_METHOD', 'The http request method type is not a valid one', {});
};

/**
 * Declares a path with its operations and answers every other verb on it with Zoho's
 * INVALID_REQUEST_METHOD (400), rather than Fastify's 404. Every verb authenticates first (the
 * app's onRequest hook) unless the path is declared `public`.
 */
export function route(app: FastifyInstance, url: string, operations: Partial<Record<Method, Operation>>, opts: { public?: boolean } = {}) {
  for (const method of METHODS) {
    const operation = operations[method];
    app.route({
      method, url, config: { public: opts.public === true, declared: operation !== undefined, operation },
      handler: (operation
        ? (request: FastifyRequest, reply: FastifyReply) => operation.handler(request, reply, inputOf(request, operation))
        : notThisVerb) as RouteHandlerMethod,
    });
  }
}

/** Links when no public URL is configured and the app is not listening (tests): the default address. */
const DEFAULT_BASE = 'http://127.0.0.1:4000';

/**
 * The base of links the server hands out (`api_domain`, download links): the configured public
 * URL, else the address the server listens on. Never the request's Host header, which the
 * client chooses.
 */
export function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const address = request.server.server.address();
  if (!address || typeof address === 'string') return DEFAULT_BASE;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/** The first value of a query parameter (repeated keys arrive as arrays). */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const v = (request.query as Record<string, unknown>)[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function intParam(request: FastifyRequest, name: string, min: number, max: number, fallback: number): number {
  const raw = queryParam(request, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || +raw < min || +raw > max) {
    throw new AppError('INVALID_DATA', `${name} must be an integer between ${min} and ${max}`, { param_name: name });
  }
  return +raw;
}

/** Comma-separated list parameter (the SDK percent-encodes the commas). */
export function listParam(request: FastifyRequest, name: string): string[] | undefined {
  const raw = queryParam(request, name);
  if (raw === undefined) return undefined;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface ActionResult { ok: boolean; code: string; message: string; details: Record<string, unknown> }

/**
 * Zoho's per-item action envelope: one entry per input, in order; 201/200 when all succeed,
 * 207 when some do, 400 when none do.
 */
export function sendActions(reply: FastifyReply, wrapper: string, results: ActionResult[], successStatus: 200 | 201) {
  const ok = results.filter((r) => r.ok).length;
  const status = ok === results.length ? successStatus : ok === 0 ? 400 : 207;
  return reply.code(status).send({
    [wrapper]: results.map((r) => ({ code: r.code, details: r.details, message: r.message, status: r.ok ? 'success' : 'error' })),
  });
}

/** A successful read with nothing to return: 204, no body, no Content-Type (Zoho's way). */
export function noContent(reply: FastifyReply) {
  return reply.code(204).removeHeader('content-type').send();
}
