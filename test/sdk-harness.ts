import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import { afterAll, beforeAll, expect } from 'vitest';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { createEnv, createOrg, type EnvOptions, type TestEnv, type TestOrg } from './helpers.ts';

/** The official SDK (CommonJS) and what both SDK test files need to drive it. */
const require = createRequire(import.meta.url);
export const Z = require('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;

type OAuthToken = ZohoSdk.OAuthToken;

/** An in-memory token store with the six methods the SDK calls; it keeps copies, not the SDK's objects. */
class MemoryTokenStore implements ZohoSdk.TokenStore.TokenStore {
  readonly tokens = new Map<string, OAuthToken>();
  private nextId = 1;

  private static copy(t: OAuthToken): OAuthToken {
    const c = new Z.OAuthToken(t.getClientId(), t.getClientSecret(), t.getGrantToken(), t.getRefreshToken(), t.getRedirectURL(),
      t.getId(), t.getAccessToken(), t.getUserSignature());
    if (t.getExpiresIn() != null) c.setExpiresIn(t.getExpiresIn());
    c.setAPIDomain(t.getAPIDomain() ?? null);
    return c;
  }

  /** The stored token the given one stands for: same user, same access token (token-only flow) or same refresh/grant token. */
  private match(t: OAuthToken): OAuthToken | undefined {
    const name = t.getUserSignature()?.getName();
    for (const s of this.tokens.values()) {
      if (name) {
        if (s.getUserSignature()?.getName() === name) return s;
      } else if (t.getAccessToken() && t.getClientId() == null) {
        if (s.getAccessToken() === t.getAccessToken()) return s;
      } else if ((t.getRefreshToken() && s.getRefreshToken() === t.getRefreshToken())
        || (t.getGrantToken() && s.getGrantToken() === t.getGrantToken())) {
        return s;
      }
    }
    return undefined;
  }

  async findToken(token: ZohoSdk.Token.Token) {
    const t = token as OAuthToken;
    const s = this.match(t);
    if (!s) return null;
    if (t.getId() == null) t.setId(s.getId());
    if (t.getUserSignature() == null) t.setUserSignature(s.getUserSignature());
    if (t.getRefreshToken() == null) t.setRefreshToken(s.getRefreshToken());
    if (t.getAccessToken() == null) t.setAccessToken(s.getAccessToken());
    if (t.getExpiresIn() == null && s.getExpiresIn() != null) t.setExpiresIn(s.getExpiresIn());
    if (t.getAPIDomain() == null) t.setAPIDomain(s.getAPIDomain());
    return t;
  }

  async findTokenById(id: string) {
    const s = this.tokens.get(id);
    return s ? MemoryTokenStore.copy(s) : null;
  }

  async saveToken(token: ZohoSdk.Token.Token) {
    const t = token as OAuthToken;
    if (!t.getId()) t.setId(this.match(t)?.getId() ?? String(this.nextId++));
    this.tokens.set(t.getId()!, MemoryTokenStore.copy(t));
  }

  async deleteToken(id: string) {
    this.tokens.delete(id);
  }

  async getTokens() {
    return [...this.tokens.values()].map((s) => MemoryTokenStore.copy(s));
  }

  async deleteTokens() {
    this.tokens.clear();
  }
}

/**
 * Points the SDK at the server (base URL, full token URL, base as file URL) with a self-client's
 * refresh token, metadata refresh and picklist checks off, logging off, a fresh resource dir.
 */
async function initializeSdk(base: string, client: { client_id: string; client_secret: string; refresh_token: string },
  store: MemoryTokenStore, resourceDir: string) {
  const environment = new Z.Environment(base, `${base}/oauth/v2/token`, base);
  const token = new Z.OAuthBuilder().clientId(client.client_id).clientSecret(client.client_secret)
    .refreshToken(client.refresh_token).build();
  const config = new Z.SDKConfigBuilder().autoRefreshFields(false).pickListValidation(false).build();
  const logger = new Z.LogBuilder().level(Z.Levels.OFF).filePath(null).build();
  await new Z.InitializeBuilder().environment(environment).token(token).store(store).SDKConfig(config)
    .resourcePath(resourceDir).logger(logger).initialize();
}

/** The server on a free local port, logging every request it answers as "METHOD url status". */
async function listenForSdk(env: TestEnv, served: string[]) {
  const app = await createHttpApp(env.rt);
  app.addHook('onResponse', async (request, reply) => {
    served.push(`${request.method} ${request.url} ${reply.statusCode}`);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

type Class<T> = abstract new (...args: never[]) => T;

/** `value`, checked to be an instance of `type`: the SDK hands its answers over typed as unions of its classes. */
export function instance<T>(value: unknown, type: Class<T>): T {
  expect(value).toBeInstanceOf(type);
  return value as T;
}

/** The object of an SDK answer, checked to be an instance of `type`. */
export function objectOf<T>(res: { getObject(): unknown }, type: Class<T>): T {
  return instance(res.getObject(), type);
}

/** What `withSdk` provides; every field is set once its beforeAll has run. */
export interface SdkFixture {
  readonly env: TestEnv;
  readonly org: TestOrg;
  readonly orgId: string;
  /** The server's base URL. */
  readonly base: string;
  /** The self-client whose refresh token the SDK was given. */
  readonly client: { client_id: string; client_secret: string; refresh_token: string };
  /** The SDK's resource directory (removed in afterAll). */
  readonly resourceDir: string;
  /** The token store the SDK was given. */
  readonly store: MemoryTokenStore;
  /** Every request the server answered, in order ("METHOD url status"). */
  readonly served: string[];
}

/**
 * A SQLite store with the Acme organisation, the server listening on a free local port, and the
 * official SDK initialised against it; built in beforeAll, closed in afterAll.
 */
export function withSdk(opts: { env?: EnvOptions } = {}): SdkFixture {
  const store = new MemoryTokenStore();
  const served: string[] = [];
  let state: Omit<SdkFixture, 'orgId' | 'store' | 'served'> & { app: FastifyInstance } | undefined;
  const get = () => {
    if (!state) throw new Error('withSdk: read outside a test');
    return state;
  };
  beforeAll(async () => {
    const env = await createEnv('sqlite', opts.env);
    const org = await createOrg(env);
    const { app, base } = await listenForSdk(env, served);
    state = { env, org, app, base, client: await env.rt.services.oauth.createClient(org.org.id),
      resourceDir: fs.mkdtempSync(path.join(os.tmpdir(), 'auditrail-zoho-sdk-')) };
    await initializeSdk(base, state.client, store, state.resourceDir);
  });
  afterAll(async () => {
    await state?.app.close();
    await state?.env.close();
    if (state) fs.rmSync(state.resourceDir, { recursive: true, force: true });
  });
  return {
    get env() { return get().env; },
    get org() { return get().org; },
    get orgId() { return get().org.org.id; },
    get base() { return get().base; },
    get client() { return get().client; },
    get resourceDir() { return get().resourceDir; },
    store, served,
  };
}

/** The first item of an SDK answer with that status: its object an instance of `wrapper`, the item one of `item`. */
export function firstItem<W, I>(res: { getStatusCode(): number; getObject(): unknown }, status: number, wrapper: Class<W>,
  items: (w: W) => unknown[], item: Class<I>): I {
  expect(res.getStatusCode()).toBe(status);
  return instance(items(objectOf(res, wrapper))[0], item);
}
