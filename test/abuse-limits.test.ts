import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp, createEnv, createOrg, tokenFor, type TestEnv } from './helpers.ts';

/** Sends raw bytes to a listening app and resolves to the raw response (the connection is closed by either side). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(e)));
  });
}

describe('errors raised by the framework itself', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  beforeAll(async () => {
    env = await createEnv();
    app = await createApp(env);
    const org = await createOrg(env);
    auth = (await tokenFor(app, env, org.org.id)).auth;
  });
  afterAll(async () => { await app?.close(); await env?.close(); });

  it('answers a path with bad percent-encoding or an overlong segment as Zoho does, not with Fastify\'s body', async () => {
    for (const url of ['/crm/v8/Leads/%zz', '/crm/v8/%E0%A4%A', `/crm/v8/Leads/${'9'.repeat(200)}`, '/oauth/v2/%ff%fe']) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
      expect(res.json(), url).toEqual({ code: 'INVALID_URL_PATTERN', details: {}, message: 'Please check if the URL trying to access is a correct one',
        status: 'error' });
    }
  });

  it('answers headers over 16 KB with a Zoho-shaped 431, and a request it cannot parse with a Zoho-shaped 400', async () => {
    const server = await createApp(env);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    try {
      const big = await rawRequest(port, `GET /crm/v8/org HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
      expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
        details: { limit: 16384 }, message: 'the request headers exceed 16384 bytes', status: 'error' });
      const garbled = await rawRequest(port, 'GET /crm/v8/org HTTP/1.1\r\nHost x\r\n\r\n');
      expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(garbled.slice(garbled.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
    } finally {
      await server.close();
    }
  });
});
