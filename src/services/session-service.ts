import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { fullName } from '../domain/display.ts';
import type { ProfilePermissions } from '../domain/permissions.ts';
import { unstorableReason } from '../domain/text.ts';
import type { OrgTable, ProfileTable, UserTable } from '../store/schema.ts';
import { consolePages, profileScopes, secretsEqual, visibleUserIds } from './authorization.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps } from './context.ts';
import type { Principal, RequestContext } from './oauth-service.ts';
import { checkPassword, decoyHash, hashPassword } from './passwords.ts';
import { countFailure, hitLimits, MINUTE, tooManyRequests, unlockKeys } from './rate-limits.ts';

/** The console's session cookie. Its value is 32 random bytes; the store keeps only its hash. */
export const SESSION_COOKIE = 'auditrail_session';

/**
 * Password sign-in's limits, like the token endpoint's: every attempt counts against its IP and
 * its email; an email or IP that fails this many times in the window is locked out. Failures
 * past the limit are not audited one by one (an anonymous caller must not flood the chain): the
 * lockout itself is, once.
 */
export const LOGIN_LIMITS = {
  requestsPerIpPerMinute: 60,
  requestsPerEmailPerMinute: 20,
  failuresPerEmail: 10,
  failuresPerIp: 30,
  failureWindowMs: 15 * MINUTE,
  lockoutMs: 15 * MINUTE,
};

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;
/** A session is refreshed in the store at most this often (idle expiry is counted in minutes). */
const TOUCH_EVERY_MS = 30_000;
const CACHE_MS = 5000;
const WRONG = 'The email or password is incorrect';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

export interface SessionOptions {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however active. */
  maxAgeMs: number;
}

/** A signed-in console session, as the HTTP layer needs it. */
export interface ConsoleSession {
  principal: Principal;
  csrfToken: string;
  /** Present only right after sign-in: the cookie's value. */
  cookie?: string;
}

/** INVALID_DATA unless the password can be stored and is between the limits. */
export function checkNewPassword(password: unknown): string {
  if (typeof password !== 'string') throw new AppError('INVALID_DATA', 'the password must be text', { api_name: 'password' });
  const reason = unstorableReason(password);
  if (reason) throw new AppError('INVALID_DATA', `invalid password: ${reason}`, { api_name: 'password' });
  if ([...password].length < PASSWORD_MIN) {
    throw new AppError('INVALID_DATA', `the password must have at least ${PASSWORD_MIN} characters`, { api_name: 'password' });
  }
  if (password.length > PASSWORD_MAX) {
    throw new AppError('INVALID_DATA', `the password must have at most ${PASSWORD_MAX} characters`, { api_name: 'password' });
  }
  return password;
}

/**
 * Console sign-in with a password, sessions that end when idle, and sign-out. Sign-in, failed
 * sign-in and sign-out are audited with source `crm_ui`.
 */
export function createSessionService(deps: ServiceDeps, opts: SessionOptions) {
  const { store } = deps;
  const cache = new Map<string, { session: ConsoleSession; cachedAt: number }>();

  function consoleActor(org: OrgTable, user: UserTable, profile: ProfileTable | undefined, ctx: RequestContext): Actor {
    return {
      orgId: org.id, type: 'user', userId: user.id, name: fullName(user), source: 'crm_ui', ip: ctx.ip, userAgent: ctx.userAgent,
      isAdmin: profile?.is_admin === 1, permissions: profile ? JSON.parse(profile.permissions) as ProfilePermissions : null,
      roleId: user.role_id, timeZone: org.time_zone,
    };
  }

  const emailKey = (email: string) => `login:email:${email.slice(0, 320)}`;
  const ipKey = (ip: string) => `login:ip:${ip}`;

  /** Counts a failed sign-in against the email and IP (rate-limits.countFailure). */
  const failed = (email: string, ctx: RequestContext) => countFailure(deps,
    [[emailKey(email), LOGIN_LIMITS.failuresPerEmail], [ctx.ip && ipKey(ctx.ip), LOGIN_LIMITS.failuresPerIp]], LOGIN_LIMITS);

  async function principalOf(orgId: string, userId: string): Promise<Principal | null> {
    const [org, user] = await Promise.all([store.repos.directory.getOrg(orgId), store.repos.directory.getUser(orgId, userId)]);
    const profile = user ? await store.repos.directory.getProfile(orgId, user.profile_id) : undefined;
    if (!org || !user || !profile || user.status !== 'active') return null;
    const permissions = JSON.parse(profile.permissions) as ProfilePermissions;
    const isAdmin = profile.is_admin === 1;
    return { org, user, profile, permissions, isAdmin, scopes: profileScopes(isAdmin, permissions), clientId: 'console', viaSession: true };
  }

  /**
   * Signs in with an email and password: a new session and its `login` entry, in one
   * transaction. Throws AUTHENTICATION_FAILURE (one message whichever was wrong; an unknown
   * email takes as long as a wrong password), TOO_MANY_REQUESTS past the limits or while locked
   * out, INVALID_DATA for a body that is not an email and a password.
   */
  async function login(input: { email?: unknown; password?: unknown }, ctx: RequestContext): Promise<ConsoleSession & { cookie: string }> {
    if (typeof input.email !== 'string' || typeof input.password !== 'string' || input.password.length > PASSWORD_MAX * 4) {
      throw new AppError('INVALID_DATA', 'sign in with an email and a password', { api_name: typeof input.email !== 'string' ? 'email' : 'password' });
    }
    const email = input.email.trim().toLowerCase();
    const refused = await hitLimits(deps, [
      ...(ctx.ip ? [{ key: ipKey(ctx.ip), max: LOGIN_LIMITS.requestsPerIpPerMinute, windowMs: MINUTE }] : []),
      { key: emailKey(email), max: LOGIN_LIMITS.requestsPerEmailPerMinute, windowMs: MINUTE },
    ]);
    if (refused) throw tooManyRequests(refused, 'Too many sign-in attempts. Please try again later.');
    const candidates = email ? await store.repos.directory.findUsersByEmail(email) : [];
    let matched: UserTable | undefined;
    if (candidates.length === 0) {
      await checkPassword(input.password, await decoyHash());
    } else {
      for (const u of candidates) {
        // A user without a password is checked against the decoy, so that no answer comes sooner
        // (2 ms against 80: which emails exist would show in the timing).
        if (await checkPassword(input.password, u.password_hash ?? await decoyHash()) && u.password_hash) {
          matched = u;
          break;
        }
      }
    }
    if (!matched || matched.status !== 'active') {
      const { over, lockedUntil } = await failed(email, ctx);
      // A known user's failures are theirs to see, up to the lockout; an unknown email has no
      // organisation to audit into (the counters still lock it out).
      const known = matched ?? candidates[0];
      if (known && !over) {
        const org = (await store.repos.directory.getOrg(known.org_id))!;
        const profile = await store.repos.directory.getProfile(known.org_id, known.profile_id);
        const actor = consoleActor(org, known, profile, ctx);
        await inTransaction(deps, actor, async (tx) => {
          tx.audit({ action: 'login_failed', module: 'users', recordId: known.id, recordName: actor.name, parentModule: null,
            parentId: null, batchId: null, fieldHistory: null, extra: { method: 'password', reason: matched ? 'user_not_active' : 'wrong_password',
              ...(lockedUntil ? { locked_until: new Date(lockedUntil).toISOString() } : {}) } });
        });
      }
      throw new AppError('AUTHENTICATION_FAILURE', WRONG, {});
    }
    const principal = await principalOf(matched.org_id, matched.id);
    if (!principal) throw new AppError('AUTHENTICATION_FAILURE', WRONG, {});
    const cookie = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    await store.repos.limits.unlock(unlockKeys(emailKey(email), deps.clock(), LOGIN_LIMITS.failureWindowMs));
    const actor = consoleActor(principal.org, principal.user, principal.profile, ctx);
    await inTransaction(deps, actor, async (tx) => {
      await tx.store.sessions.insert({
        id_hash: sha256(cookie), org_id: principal.org.id, user_id: principal.user.id, csrf_token: csrfToken, ip: ctx.ip,
        user_agent: ctx.userAgent, created_at: tx.now, last_seen_at: tx.now, expires_at: tx.now + opts.maxAgeMs, revoked_at: null,
      });
      tx.audit({ action: 'login', module: 'users', recordId: principal.user.id, recordName: actor.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { method: 'password' } });
    });
    return { principal, csrfToken, cookie };
  }

  /**
   * The session behind a cookie, refreshed as used. Throws AUTHENTICATION_FAILURE for an
   * unknown, ended (signed out, idle, past its age) session, or one whose user is no longer active.
   */
  async function authenticate(cookie: string): Promise<ConsoleSession> {
    const hash = sha256(cookie);
    const now = deps.clock();
    const hit = cache.get(hash);
    if (hit && now - hit.cachedAt < CACHE_MS) return hit.session;
    const row = await store.repos.sessions.get(hash);
    const ended = !row || row.revoked_at !== null || Number(row.expires_at) <= now || now - Number(row.last_seen_at) > opts.idleMs;
    const principal = row && !ended ? await principalOf(row.org_id, row.user_id) : null;
    if (!row || !principal) {
      cache.delete(hash);
      throw new AppError('AUTHENTICATION_FAILURE', 'Your session has ended. Please sign in again.', {});
    }
    if (now - Number(row.last_seen_at) > TOUCH_EVERY_MS) await store.repos.sessions.touch(hash, now);
    const session = { principal, csrfToken: row.csrf_token };
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { session, cachedAt: now });
    return session;
  }

  /** Whether a request's CSRF token is the session's (constant time). */
  const csrfMatches = (session: ConsoleSession, presented: unknown) =>
    typeof presented === 'string' && secretsEqual(sha256(presented), sha256(session.csrfToken));

  /** Signs out: ends the session and writes `logout`. An ended session signs out silently. */
  async function logout(cookie: string, ctx: RequestContext) {
    const hash = sha256(cookie);
    cache.delete(hash);
    const row = await store.repos.sessions.get(hash);
    if (!row || row.revoked_at !== null) return;
    const principal = await principalOf(row.org_id, row.user_id);
    const org = principal?.org ?? (await store.repos.directory.getOrg(row.org_id))!;
    const user = principal?.user ?? await store.repos.directory.getUser(row.org_id, row.user_id);
    const actor = user ? consoleActor(org, user, principal?.profile, ctx) : { ...systemActor(org.id, 'System', org.time_zone), ...ctx };
    await inTransaction(deps, actor, async (tx) => {
      if (!await tx.store.sessions.revoke(hash, tx.now)) {
        tx.unaudited('the session had already ended: nothing changed');
        return;
      }
      tx.audit({ action: 'logout', module: 'users', recordId: row.user_id, recordName: actor.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { method: 'password' } });
    });
  }

  /**
   * Sets a user's console password (the CLI reads it from standard input), audited as
   * `user_updated` without the password, and ends their sessions. Throws INVALID_DATA for an
   * unknown email or a password outside the limits.
   */
  async function setPassword(orgId: string, email: string, password: string, actorName: string) {
    checkNewPassword(password);
    const org = await store.repos.directory.getOrg(orgId);
    if (!org) throw new AppError('INVALID_DATA', 'no such organisation', { api_name: 'org' });
    const user = await store.repos.directory.getUserByEmail(orgId, email.trim());
    if (!user) throw new AppError('INVALID_DATA', `no user ${email} in this organisation`, { api_name: 'email' });
    const hash = await hashPassword(password);
    await inTransaction(deps, systemActor(orgId, actorName, org.time_zone), async (tx) => {
      await tx.store.directory.updateUser(orgId, user.id, { password_hash: hash, modified_at: tx.now });
      await tx.store.sessions.revokeUser(orgId, user.id, tx.now);
      tx.audit({ action: 'user_updated', module: 'users', recordId: user.id, recordName: fullName(user), parentModule: null, parentId: null,
        batchId: null, fieldHistory: [{ api_name: 'password', field_label: 'Password', old: user.password_hash ? '(set)' : '(not set)', new: '(changed)' }],
        extra: null });
    });
    cache.clear();
    return user;
  }

  /**
   * What the console shows of a signed-in user and may offer them: their role, whether they see
   * the whole organisation's log, and the pages they may use (authorization.consolePages).
   */
  async function describe(principal: Principal) {
    const actor = consoleActor(principal.org, principal.user, principal.profile, { ip: null, userAgent: null });
    const role = await store.repos.directory.getRole(principal.org.id, principal.user.role_id);
    return {
      name: actor.name, role: role ? { id: role.id, name: role.name } : null,
      seesAll: (await visibleUserIds(store.repos, actor)) === null, pages: consolePages(actor),
    };
  }

  /** Forgets sessions that ended more than a day ago (periodic). */
  const pruneSessions = () => store.repos.sessions.prune(deps.clock() - 24 * 3600_000);

  return { login, authenticate, csrfMatches, logout, setPassword, describe, pruneSessions, idleSeconds: Math.round(opts.idleMs / 1000) };
}

export type SessionService = ReturnType<typeof createSessionService>;
