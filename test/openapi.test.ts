import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { createApp, createEnv, createOrg, tokenFor, withApp, type TestEnv } from './helpers.ts';
import { routesOf } from '../src/http/app.ts';

/** The OpenAPI document is built from the routes' own declarations, so it lists what the app serves. */
describe('GET /api/openapi.json', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let auth: Record<string, string>;
  beforeAll(async () => {
    env = await createEnv();
    app = await createApp(env);
    auth = (await tokenFor(app, env, (await createOrg(env)).org.id)).auth;
  });
  afterAll(async () => { await app?.close(); await env?.close(); });

  it('is public, OpenAPI 3.1, and lists every route the app serves with its method', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'auditrail', version: JSON.parse(readFileSync('package.json', 'utf8')).version });
    expect(doc.info.description).toMatch(/\/crm\/v7\//);
    for (const r of routesOf(app)) {
      const path = r.url.replace(/^\/crm\/v7\//, '/crm/v8/').replace(/:(\w+)/g, '{$1}');
      const operation = doc.paths[path]?.[r.method.toLowerCase()];
      expect(operation, `${r.method} ${r.url}`).toMatchObject({ summary: expect.any(String), responses: expect.any(Object) });
      expect(operation.responses.default.content['application/json'].schema, `${r.method} ${r.url}`).toBeTruthy();
      const names = (operation.parameters as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name).sort();
      expect(names, `${r.method} ${r.url}`).toEqual([...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]).sort());
    }
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/crm/v7/'))).toBe(false);
    expect(doc.paths['/oauth/v2/token'].post.security).toEqual([]);
    expect(doc.paths['/crm/v8/{module}/{id}/actions/merge'].post.responses.default.content['application/json'].schema.anyOf).toHaveLength(2);
  });

  it('declares response schemas that real replies match', async () => {
    const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    const created = await inject('POST', '/crm/v8/Leads', { data: [{ Last_Name: 'Schema', Company: 'Acme' }] });
    const id = created.json().data[0].details.id as string;
    await inject('POST', '/crm/v8/Leads', { data: [{ Last_Name: 'Schema' }, { Email: 'no name' }] });
    // [method, url, the route it reaches, body]
    const calls: [string, string, string, unknown?][] = [
      ['POST', `/crm/v8/Leads/${id}/Notes`, '/crm/v8/:module/:id/:related', { data: [{ Note_Content: 'n' }] }],
      ['GET', '/crm/v8/Leads?fields=Last_Name,Company&per_page=1', '/crm/v8/:module'], ['GET', `/crm/v8/Leads/${id}`, '/crm/v8/:module/:id'],
      ['GET', '/crm/v8/settings/audit_log?per_page=5', '/crm/v8/settings/audit_log'],
      ['GET', `/crm/v8/Leads/${id}/__timeline`, '/crm/v8/:module/:id/__timeline'], ['GET', `/crm/v8/Leads/${id}/Notes`, '/crm/v8/:module/:id/:related'],
      ['GET', '/crm/v8/users', '/crm/v8/users'], ['GET', '/crm/v8/settings/roles', '/crm/v8/settings/roles'],
      ['GET', '/crm/v8/settings/profiles', '/crm/v8/settings/profiles'], ['GET', '/crm/v8/settings/modules', '/crm/v8/settings/modules'],
      ['GET', '/crm/v8/settings/fields?module=Leads', '/crm/v8/settings/fields'], ['GET', '/crm/v8/org', '/crm/v8/org'],
      ['POST', '/crm/v8/settings/audit_log_export', '/crm/v8/settings/audit_log_export', {}],
      ['GET', '/crm/v8/settings/audit_log_export', '/crm/v8/settings/audit_log_export'],
      ['POST', '/crm/v8/settings/audit_log_export', '/crm/v8/settings/audit_log_export', {}],
      ['GET', '/api/integrity/public-key', '/api/integrity/public-key'], ['GET', '/health', '/health'],
      ['POST', '/api/v1/alert-rules', '/api/v1/alert-rules', { name: 'Schema', conditions: [{ type: 'action', operator: 'is', values: ['deleted'] }],
        actions: [{ type: 'notification' }, { type: 'webhook', url: 'https://hooks.example.com/a' }] }],
      ['GET', '/api/v1/alert-rules', '/api/v1/alert-rules'], ['GET', '/api/v1/alert-deliveries?status=dead', '/api/v1/alert-deliveries'],
      ['GET', '/api/v1/alert-notifications', '/api/v1/alert-notifications'],
    ];
    const declared = new Map(routesOf(app).map((r) => [`${r.method} ${r.url}`, r.operation!]));
    for (const [method, url, pattern, payload] of calls) {
      const res = await inject(method as 'GET', url, payload);
      const operation = declared.get(`${method} ${pattern}`)!;
      const spec = operation.responses[res.statusCode];
      const body = res.json();
      const schema = spec as z.ZodType | undefined;
      if (res.statusCode >= 400 && !spec) {
        // The second export answers ALREADY_SCHEDULED inside the wrapper the route declares.
        expect(body[operation.errorWrapper!]?.[0]?.status, `${method} ${url}: ${res.body}`).toBe('error');
        continue;
      }
      expect(schema, `${method} ${url} answered ${res.statusCode}, which it does not declare`).toBeDefined();
      const r = schema!.safeParse(body);
      expect(r.success, `${method} ${url}: ${r.error?.message}`).toBe(true);
    }
  });
});

describe('the browsable API reference at /docs', () => {
  const t = withApp({ token: false });

  it('serves Swagger UI and the same document without a token, every declared route in it', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    const html = page.statusCode === 302 ? await t.app.inject({ method: 'GET', url: String(page.headers.location).replace(/^\.\//, '/docs/') }) : page;
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toMatch(/swagger/i);
    const json = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    const doc = json.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1/);
    const own = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.paths).toEqual(own.paths);
    for (const r of routesOf(t.app)) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      if (path.startsWith('/crm/v7')) continue;
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/health']?.get).toBeDefined();
  });
});
