import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { AppError } from '../domain/errors.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
const METHODS: Method[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (the token endpoint, health, the public key). */
    public?: boolean;
    /** A verb the path really has, rather than the INVALID_REQUEST_METHOD answer. */
    declared?: boolean;
  }
}

/**
 * Declares a path with its handlers and answers every other verb on it with Zoho's
 * INVALID_REQUEST_METHOD (400), rather than Fastify's 404. Every verb authenticates first (the
 * app's onRequest hook) unless the path is declared `public`.
 */
export function route(app: FastifyInstance, url: string, handlers: Partial<Record<Method, Handler>>, opts: { public?: boolean } = {}) {
  for (const method of METHODS) {
    const handler = handlers[method];
    app.route({
      method, url, config: { public: opts.public === true, declared: handler !== undefined },
      handler: (handler ?? (async () => {
        throw new AppError('INVALID_REQUEST_METHOD', 'The http request method type is not a valid one', {});
      })) as RouteHandlerMethod,
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

/** The JSON body as an object; INVALID_DATA when it is something else. */
export function bodyObject(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null || body === '') {
    throw new AppError('MANDATORY_NOT_FOUND', 'request body is missing', { api_name: 'data', json_path: '$.data' });
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('INVALID_DATA', 'the request body must be a JSON object', { expected_data_type: 'jsonobject', json_path: '$' });
  }
  return body as Record<string, unknown>;
}

/** The wrapper array of a write body (`data`, `users`, `roles`, ...). */
export function bodyArray(request: FastifyRequest, key: string): unknown[] {
  const body = bodyObject(request);
  const v = body[key];
  if (v === undefined || v === null) {
    throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: key, json_path: `$.${key}` });
  }
  if (!Array.isArray(v)) {
    throw new AppError('INVALID_DATA', 'invalid data', { api_name: key, json_path: `$.${key}`, expected_data_type: 'jsonarray' });
  }
  return v;
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
