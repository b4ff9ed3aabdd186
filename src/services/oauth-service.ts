import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { isValidScope, scopeCovers } from '../domain/scopes.ts';
import type { ProfilePermissions } from '../domain/permissions.ts';
import type { OAuthClientTable, OrgTable, ProfileTable, UserTable } from '../store/schema.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps } from './context.ts';
import { fullName } from '../domain/display.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { profileScopes, secretsEqual } from './authorization.ts';
import { countFailure, hitLimits, MINUTE, pruneRateLimits, tooManyRequests, unlockKeys, type Refusal } from './rate-limits.ts';

export const ACCESS_TOKEN_SECONDS = 3600;
/** Tokens whose API-limit reservations one process keeps before it forgets past minutes'. */
const MAX_RESERVATIONS = 10_000;
const CODE_SECONDS = 600;
const CACHE_MS = 5000;

/**
 * The token endpoint's limits. Every request counts against its IP and its client id; past
 * either rate, or while either is locked out, it is refused with TOO_MANY_REQUESTS. A client id
 * or IP that fails this many logins within the failure window is locked out, and the failures
 * past that count, like the refused requests, are tallied into one summary entry per client and
 * minute instead of one entry each: an unauthenticated caller cannot flood the chain.
 */
export const TOKEN_LIMITS = {
  requestsPerIpPerMinute: 120,
  requestsPerClientPerMinute: 30,
  failuresPerClient: 10,
  failuresPerIp: 30,
  failureWindowMs: 15 * MINUTE,
  lockoutMs: 15 * MINUTE,
};
/** A tally's minute is summarised this long after it ends, so that requests still running join it. */
const TALLY_GRACE_MS = 5000;
const TOO_MANY_LOGINS = 'You have made too many requests continuously. Please try again after some time.';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
const token = () => `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;

/** The signed-in identity behind an access token. */
export interface Principal {
  org: OrgTable;
  user: UserTable;
  profile: ProfileTable;
  permissions: ProfilePermissions;
  isAdmin: boolean;
  scopes: string[];
  clientId: string;
  /** Signed in through the console (a session cookie), not an OAuth token: its entries' source is crm_ui. */
  viaSession?: boolean;
}

export interface TokenRequest {
  grant_type?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  code?: string;
  redirect_uri?: string;
  scope?: string;
  soid?: string;
}

export type TokenResponse =
  | { access_token: string; refresh_token?: string; scope: string; api_domain: string; token_type: 'Bearer'; expires_in: number }
  | { error: string };

export interface RequestContext { ip: string | null; userAgent: string | null; baseUrl?: string }

/**
 * INVALID_DATA for a malformed scope, NO_PERMISSION for one that neither `bound` covers (the
 * client's scopes, for a grant code) nor the user's profile allows (authorization.profileScopes).
 */
function checkScopes(scopes: string[], profile: ProfileTable, bound?: string[]) {
  const bad = scopes.find((s) => !isValidScope(s));
  if (bad) throw new AppError('INVALID_DATA', `invalid scope ${bad}`, { api_name: 'scopes' });
  const allowed = profileScopes(profile.is_admin === 1, JSON.parse(profile.permissions) as ProfilePermissions);
  const wide = scopes.find((s) => !scopeCovers(allowed, s) || (bound && !scopeCovers(bound, s)));
  if (wide) throw new AppError('NO_PERMISSION', `the scope ${wide} is wider than the user's profile or the client allows`, { permissions: [wide] });
}

/** OAuth 2.0 as Zoho's accounts server speaks it; logins and client changes are audited. */
export function createOAuthService(deps: ServiceDeps, apiDomain: (ctx: RequestContext) => string) {
  const { store } = deps;
  const cache = new Map<string, { principal: Principal; expiresAt: number; cachedAt: number }>();

  async function loadUser(orgId: string, userId: string) {
    const user = await store.repos.directory.getUser(orgId, userId);
    const profile = user ? await store.repos.directory.getProfile(orgId, user.profile_id) : undefined;
    return { user, profile };
  }

  function userActor(org: OrgTable, user: UserTable, profile: ProfileTable | undefined, ctx: RequestContext): Actor {
    return {
      orgId: org.id, type: 'user', userId: user.id, name: fullName(user), source: 'api', ip: ctx.ip, userAgent: ctx.userAgent,
      isAdmin: profile?.is_admin === 1, permissions: profile ? JSON.parse(profile.permissions) : null,
      roleId: user.role_id, timeZone: org.time_zone,
    };
  }

  /**
   * Creates a self-client for a user (default: the first active Administrator) and a refresh
   * token for it. Throws INVALID_DATA for an unknown user or scope.
   */
  async function createClient(orgId: string, opts: { userEmail?: string; scopes?: string[]; name?: string; redirectUri?: string; actorName?: string } = {}) {
    const org = await store.repos.directory.getOrg(orgId);
    if (!org) throw new AppError('INVALID_DATA', 'no such organisation', { api_name: 'org' });
    const [users, profiles] = await Promise.all([store.repos.directory.listUsers(orgId), store.repos.directory.listProfiles(orgId)]);
    const adminProfiles = new Set(profiles.filter((p) => p.is_admin).map((p) => p.id));
    const user = opts.userEmail
      ? users.find((u) => u.email === opts.userEmail!.toLowerCase() && u.status === 'active')
      : users.find((u) => u.status === 'active' && adminProfiles.has(u.profile_id));
    if (!user) throw new AppError('INVALID_DATA', `no active user ${opts.userEmail ?? 'with the Administrator profile'}`, { api_name: 'user' });
    const profile = profiles.find((p) => p.id === user.profile_id)!;
    const scopes = opts.scopes ?? profileScopes(profile.is_admin === 1, JSON.parse(profile.permissions));
    checkScopes(scopes, profile);
    const clientId = `1000.${randomBytes(15).toString('hex').toUpperCase()}`;
    const clientSecret = randomBytes(21).toString('hex');
    const refreshToken = token();
    const actor = systemActor(orgId, opts.actorName ?? 'auditrail CLI', org.time_zone);
    await inTransaction(deps, actor, async (tx) => {
      await tx.store.oauth.insertClient({
        id: newId(tx.now), org_id: orgId, user_id: user.id, client_id: clientId, secret_hash: sha256(clientSecret),
        name: opts.name ?? 'Self Client', scopes: scopes.join(','), redirect_uri: opts.redirectUri ?? null,
        created_at: tx.now, revoked_at: null,
      });
      await tx.store.oauth.insertToken({
        token_hash: sha256(refreshToken), kind: 'refresh', org_id: orgId, client_id: clientId, user_id: user.id,
        scopes: scopes.join(','), refresh_hash: null, expires_at: null, revoked_at: null, created_at: tx.now,
      });
      tx.audit({ action: 'oauth_client_created', module: 'oauth_clients', recordId: clientId, recordName: opts.name ?? 'Self Client',
        parentModule: 'users', parentId: user.id, batchId: null, fieldHistory: null, extra: { scopes, user: user.email } });
    });
    return { client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken, user, scopes };
  }

  /**
   * A one-time grant code (10 minutes) for the authorization_code grant, like Zoho's self-client
   * console, audited with it. Its scopes stay within the client's and the user's profile's.
   */
  async function createGrantCode(clientId: string, scopes?: string[], actorName = 'auditrail CLI') {
    const client = await store.repos.oauth.getClient(clientId);
    if (!client || client.revoked_at) throw new AppError('INVALID_DATA', 'no such client', { api_name: 'client_id' });
    const { user, profile } = await loadUser(client.org_id, client.user_id);
    if (!user || !profile || user.status !== 'active') throw new AppError('INVALID_DATA', 'the client\'s user is not active', { api_name: 'client_id' });
    const granted = scopes ?? client.scopes.split(',');
    checkScopes(granted, profile, client.scopes.split(','));
    const code = token();
    const org = (await store.repos.directory.getOrg(client.org_id))!;
    await inTransaction(deps, systemActor(org.id, actorName, org.time_zone), async (tx) => {
      await tx.store.oauth.insertToken({
        token_hash: sha256(code), kind: 'code', org_id: client.org_id, client_id: client.client_id, user_id: client.user_id,
        scopes: granted.join(','), refresh_hash: null, expires_at: tx.now + CODE_SECONDS * 1000, revoked_at: null, created_at: tx.now,
      });
      tx.audit({ action: 'oauth_grant_code_issued', module: 'oauth_clients', recordId: client.client_id, recordName: client.name,
        parentModule: 'users', parentId: user.id, batchId: null, fieldHistory: null, extra: { scopes: granted, user: user.email } });
    });
    return code;
  }

  async function audit(actor: Actor, action: 'login_failed', extra: Record<string, unknown>) {
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action, module: 'users', recordId: actor.userId, recordName: actor.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra });
    });
  }

  // Keys a caller chooses are cut short: a longer client id only shares its counter with another.
  const clientKey = (clientId: string) => `token:client:${clientId.slice(0, 100)}`;
  const ipKey = (ip: string) => `token:ip:${ip}`;

  /** Counts a refused or over-limit login of a known client into its minute's tally. */
  async function tally(client: OAuthClientTable | undefined, ctx: RequestContext) {
    if (!client) return;
    const now = deps.clock();
    await store.repos.limits.tallyLoginFailure({ org_id: client.org_id, client_id: client.client_id, minute_start: now - (now % MINUTE), last_ip: ctx.ip });
  }

  /** Counts a failed login against its client id and IP (rate-limits.countFailure). */
  const failed = (clientId: string | undefined, ctx: RequestContext) => countFailure(deps,
    [[clientId && clientKey(clientId), TOKEN_LIMITS.failuresPerClient], [ctx.ip && ipKey(ctx.ip), TOKEN_LIMITS.failuresPerIp]], TOKEN_LIMITS);

  /** The token endpoint: issues tokens or answers `{error}` as Zoho's accounts server does. Throws TOO_MANY_REQUESTS. */
  async function grant(req: TokenRequest, ctx: RequestContext): Promise<TokenResponse> {
    const refused: Refusal | null = await hitLimits(deps, [
      ...(ctx.ip ? [{ key: ipKey(ctx.ip), max: TOKEN_LIMITS.requestsPerIpPerMinute, windowMs: MINUTE }] : []),
      ...(req.client_id ? [{ key: clientKey(req.client_id), max: TOKEN_LIMITS.requestsPerClientPerMinute, windowMs: MINUTE }] : []),
    ]);
    if (refused) {
      await tally(req.client_id ? await store.repos.oauth.getClient(req.client_id) : undefined, ctx);
      throw tooManyRequests(refused, TOO_MANY_LOGINS);
    }
    const grantType = req.grant_type;
    if (!grantType) return { error: 'invalid_request' };
    if (!['refresh_token', 'authorization_code', 'client_credentials'].includes(grantType)) return { error: 'unsupported_grant_type' };
    if (!req.client_id) return { error: 'invalid_client' };
    const client = await store.repos.oauth.getClient(req.client_id);
    const unknown = async () => {
      await failed(req.client_id, ctx);
      return { error: 'invalid_client' };
    };
    if (!client || client.revoked_at) return unknown();
    const org = (await store.repos.directory.getOrg(client.org_id))!;
    const { user, profile } = await loadUser(client.org_id, client.user_id);
    if (!user) return unknown();
    const actor = userActor(org, user, profile, ctx);
    const fail = async (error: string) => {
      const { over, lockedUntil } = await failed(client.client_id, ctx);
      if (over) {
        await tally(client, ctx);
      } else {
        await audit(actor, 'login_failed', { grant_type: grantType, client_id: client.client_id, reason: error,
          ...(lockedUntil ? { locked_until: new Date(lockedUntil).toISOString() } : {}) });
      }
      return { error };
    };
    if (!req.client_secret || !secretsEqual(sha256(req.client_secret), client.secret_hash)) return fail('invalid_client_secret');
    if (user.status !== 'active') return fail('access_denied');
    let scopes: string[];
    let refreshHash: string | null = null;
    let code: { hash: string; scopes: string } | null = null;
    if (grantType === 'refresh_token') {
      const row = req.refresh_token ? await store.repos.oauth.getToken(sha256(req.refresh_token)) : undefined;
      if (!row || row.kind !== 'refresh' || row.client_id !== client.client_id || row.revoked_at) return fail('invalid_code');
      scopes = row.scopes.split(',');
      refreshHash = row.token_hash;
    } else if (grantType === 'authorization_code') {
      const row = req.code ? await store.repos.oauth.getToken(sha256(req.code)) : undefined;
      if (!row || row.kind !== 'code' || row.client_id !== client.client_id || row.revoked_at || (row.expires_at ?? 0) < deps.clock()) {
        return fail('invalid_code');
      }
      if (client.redirect_uri && req.redirect_uri !== undefined && req.redirect_uri !== client.redirect_uri) return fail('invalid_redirect_uri');
      scopes = row.scopes.split(',');
      code = { hash: row.token_hash, scopes: row.scopes };
    } else {
      const expected = [`ZohoCRM.${org.zgid}`, `ZohoCRM.${org.id}`];
      if (!req.soid) return fail('missing_org_info');
      if (!expected.includes(req.soid)) return fail('invalid_org');
      const requested = (req.scope ?? '').split(/[\s,]+/).filter(Boolean);
      if (requested.length === 0 || requested.some((s) => !isValidScope(s))) return fail('invalid_scope');
      const allowed = client.scopes.split(',');
      if (requested.some((s) => !allowed.some((a) => a.toLowerCase() === s.toLowerCase()) && !scopeCovers(allowed, s))) {
        return fail('invalid_scope');
      }
      scopes = requested;
    }
    const accessToken = token();
    // The tokens and the login entry commit together (invariant 1): no token without its entry.
    const issued = await inTransaction(deps, actor, async (tx) => {
      let newRefresh: string | undefined;
      if (code) {
        const used = await tx.store.oauth.markTokenUsed(code.hash, tx.now);
        if (Number(used.numUpdatedRows) !== 1) return null;
        newRefresh = token();
        refreshHash = sha256(newRefresh);
        await tx.store.oauth.insertToken({
          token_hash: refreshHash, kind: 'refresh', org_id: org.id, client_id: client.client_id, user_id: user.id,
          scopes: code.scopes, refresh_hash: null, expires_at: null, revoked_at: null, created_at: tx.now,
        });
      }
      await tx.store.oauth.insertToken({
        token_hash: sha256(accessToken), kind: 'access', org_id: org.id, client_id: client.client_id, user_id: user.id,
        scopes: scopes.join(','), refresh_hash: refreshHash, expires_at: tx.now + ACCESS_TOKEN_SECONDS * 1000, revoked_at: null,
        created_at: tx.now,
      });
      tx.audit({ action: 'login', module: 'users', recordId: actor.userId, recordName: actor.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { grant_type: grantType, client_id: client.client_id } });
      return { newRefresh };
    });
    if (!issued) return fail('invalid_code');
    const newRefresh = issued.newRefresh;
    return {
      access_token: accessToken, ...(newRefresh ? { refresh_token: newRefresh } : {}), scope: scopes.join(' '),
      api_domain: apiDomain(ctx), token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS,
    };
  }

  /**
   * Writes one `login_failed` entry (`extra.reason: too_many_requests`, `extra.attempts`) per
   * client and finished minute of tallied logins, each in the transaction that removes its tally,
   * so that two nodes doing this at once write it once. Returns how many entries it wrote.
   */
  async function summariseRefusedLogins(): Promise<number> {
    const before = deps.clock() - MINUTE - TALLY_GRACE_MS;
    let written = 0;
    for (const org of await store.repos.directory.listOrgs()) {
      for (const t of await store.repos.limits.finishedTallies(org.id, before)) {
        const client = await store.repos.oauth.getClient(t.client_id);
        const { user, profile } = client ? await loadUser(org.id, client.user_id) : { user: undefined, profile: undefined };
        const ctx = { ip: t.last_ip, userAgent: null };
        const actor = user ? userActor(org, user, profile, ctx) : { ...systemActor(org.id, 'System', org.time_zone), ...ctx };
        written += await inTransaction(deps, actor, async (tx) => {
          const taken = await tx.store.limits.takeTally(org.id, t.client_id, t.minute_start);
          if (!taken) {
            tx.unaudited('another node summarised this tally first: nothing was removed');
            return 0;
          }
          tx.audit({ action: 'login_failed', module: 'users', recordId: actor.userId, recordName: actor.name, parentModule: null,
            parentId: null, batchId: null, fieldHistory: null, extra: { client_id: t.client_id, reason: 'too_many_requests',
              attempts: taken.attempts, from: new Date(t.minute_start).toISOString(), to: new Date(t.minute_start + MINUTE).toISOString() } });
          return 1;
        });
      }
    }
    await pruneRateLimits(deps);
    return written;
  }

  /** API requests this process may still serve per token in the current minute, taken from the database in blocks. */
  const reserved = new Map<string, { windowStart: number; left: number }>();

  /**
   * Counts an API request against its access token's per-minute limit, the organisation's
   * `api_requests_per_minute`. Throws TOO_MANY_REQUESTS past it.
   */
  async function limitApi(principal: Principal, accessToken: string) {
    const max = parseOrgSettings(principal.org.settings).api_requests_per_minute;
    const key = `api:${sha256(accessToken)}`;
    const now = deps.clock();
    const windowStart = now - (now % MINUTE);
    const mine = reserved.get(key);
    if (mine && mine.windowStart === windowStart && mine.left > 0) {
      mine.left -= 1;
      return;
    }
    // A write per request was a third of a cheap read's time (bench/read.ts, query B). This
    // process takes a block of a hundredth of the limit at once and spends it locally, so nodes
    // sharing the database still count together, each over-counting by at most one block.
    const block = Math.max(1, Math.floor(max / 100));
    const { count, lockedUntil } = await store.repos.limits.hit(key, windowStart, block);
    const allowed = Math.min(block, max - (count - block));
    if (allowed <= 0 || (lockedUntil !== null && lockedUntil > now)) {
      reserved.delete(key);
      const retryAfterMs = lockedUntil !== null && lockedUntil > now ? lockedUntil - now : windowStart + MINUTE - now;
      throw tooManyRequests({ key, retryAfterMs }, `too many requests: this organisation allows ${max} a minute per access token`);
    }
    if (reserved.size >= MAX_RESERVATIONS) {
      for (const [k, r] of reserved) if (r.windowStart !== windowStart) reserved.delete(k);
    }
    reserved.set(key, { windowStart, left: allowed - 1 });
  }

  /** Revokes a refresh token (with its access tokens) or an access token. Unknown tokens are ignored. */
  async function revoke(rawToken: string | undefined, ctx: RequestContext): Promise<{ status: 'success' } | { error: string }> {
    if (!rawToken) return { error: 'invalid_request' };
    const row = await store.repos.oauth.getToken(sha256(rawToken));
    if (!row || row.kind === 'code') return { status: 'success' };
    const org = (await store.repos.directory.getOrg(row.org_id))!;
    const { user, profile } = await loadUser(row.org_id, row.user_id);
    const actor = user ? userActor(org, user, profile, ctx) : systemActor(org.id, 'System', org.time_zone);
    await inTransaction(deps, actor, async (tx) => {
      await tx.store.oauth.revokeTokenTree(row.token_hash, tx.now);
      tx.audit({ action: 'token_revoked', module: 'oauth_clients', recordId: row.client_id, recordName: row.kind,
        parentModule: null, parentId: null, batchId: null, fieldHistory: null, extra: { kind: row.kind } });
      // Revoking one's token is signing out, as Zoho's log names it (console sign-out writes the same).
      if (user) {
        tx.audit({ action: 'logout', module: 'users', recordId: user.id, recordName: actor.name, parentModule: null, parentId: null,
          batchId: null, fieldHistory: null, extra: { method: 'oauth', client_id: row.client_id, kind: row.kind } });
      }
    });
    cache.clear();
    return { status: 'success' };
  }

  /** Revokes a client and every token it holds (CLI). */
  async function revokeClient(orgId: string, clientId: string, actorName = 'auditrail CLI') {
    const client = await store.repos.oauth.getClient(clientId);
    if (!client || client.org_id !== orgId) throw new AppError('INVALID_DATA', 'no such client', { api_name: 'client_id' });
    const org = (await store.repos.directory.getOrg(orgId))!;
    await inTransaction(deps, systemActor(orgId, actorName, org.time_zone), async (tx) => {
      await tx.store.oauth.revokeClient(orgId, clientId, tx.now);
      await tx.store.oauth.revokeClientTokens(clientId, tx.now);
      tx.audit({ action: 'oauth_client_revoked', module: 'oauth_clients', recordId: clientId, recordName: client.name,
        parentModule: 'users', parentId: client.user_id, batchId: null, fieldHistory: null, extra: null });
    });
    cache.clear();
  }

  /**
   * Lifts the token endpoint's lockout of a client id (and forgets its failed logins), as an
   * operator does for a client someone locked out by guessing secrets. Audited
   * (`oauth_client_unlocked`). Throws INVALID_DATA for a client not in the organisation.
   */
  async function unlockClient(orgId: string, clientId: string, actorName = 'auditrail CLI') {
    const client = await store.repos.oauth.getClient(clientId);
    if (!client || client.org_id !== orgId) throw new AppError('INVALID_DATA', 'no such client', { api_name: 'client_id' });
    const org = (await store.repos.directory.getOrg(orgId))!;
    await inTransaction(deps, systemActor(orgId, actorName, org.time_zone), async (tx) => {
      await tx.store.limits.unlock(unlockKeys(clientKey(clientId), tx.now, TOKEN_LIMITS.failureWindowMs));
      tx.audit({ action: 'oauth_client_unlocked', module: 'oauth_clients', recordId: clientId, recordName: client.name,
        parentModule: 'users', parentId: client.user_id, batchId: null, fieldHistory: null, extra: null });
    });
  }

  /**
   * Resolves an access token to its principal. Throws INVALID_TOKEN for an unknown, expired or
   * revoked token, or one whose user is no longer active. Cached for a few seconds per process.
   */
  async function authenticate(accessToken: string): Promise<Principal> {
    const hash = sha256(accessToken);
    const now = deps.clock();
    const hit = cache.get(hash);
    if (hit && now - hit.cachedAt < CACHE_MS && now < hit.expiresAt) return hit.principal;
    const row = await store.repos.oauth.getToken(hash);
    if (!row || row.kind !== 'access' || row.revoked_at || (row.expires_at ?? 0) <= now) {
      cache.delete(hash);
      throw new AppError('INVALID_TOKEN', 'invalid oauth token', {});
    }
    const [org, { user, profile }] = await Promise.all([store.repos.directory.getOrg(row.org_id), loadUser(row.org_id, row.user_id)]);
    if (!org || !user || !profile || user.status !== 'active') throw new AppError('INVALID_TOKEN', 'invalid oauth token', {});
    const principal: Principal = {
      org, user, profile, permissions: JSON.parse(profile.permissions), isAdmin: profile.is_admin === 1,
      scopes: row.scopes.split(','), clientId: row.client_id,
    };
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { principal, expiresAt: row.expires_at!, cachedAt: now });
    return principal;
  }

  const listClients = (orgId: string) => store.repos.oauth.listClients(orgId);

  return { createClient, createGrantCode, grant, revoke, revokeClient, unlockClient, authenticate, limitApi, summariseRefusedLogins, listClients, userActor,
    clearCache: () => cache.clear() };
}

export type OAuthService = ReturnType<typeof createOAuthService>;
