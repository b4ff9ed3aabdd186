import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import { createHttpApp } from '../src/http/create-http-app.ts';
import type { TestEnv } from './helpers.ts';

/** The official SDK (CommonJS) and what both SDK test files need to drive it. */
const require = createRequire(import.meta.url);
export const Z = require('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;

export type OAuthToken = ZohoSdk.OAuthToken;

/** An in-memory token store with the six methods the SDK calls; it keeps copies, not the SDK's objects. */
export class MemoryTokenStore implements ZohoSdk.TokenStore.TokenStore {
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
export async function initializeSdk(base: string, client: { client_id: string; client_secret: string; refresh_token: string },
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
export async function listenForSdk(env: TestEnv, served: string[]) {
  const app = await createHttpApp(env.rt);
  app.addHook('onResponse', async (request, reply) => {
    served.push(`${request.method} ${request.url} ${reply.statusCode}`);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}
