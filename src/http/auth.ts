import type { FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.ts';
import { moduleScope, scopeCovers, type Operation } from '../domain/scopes.ts';
import type { ModuleDef } from '../domain/modules.ts';
import { requireModule } from '../domain/modules.ts';
import type { Actor } from '../services/context.ts';
import type { OAuthService, Principal } from '../services/oauth-service.ts';
import type { Services } from '../services/index.ts';
import { SESSION_COOKIE } from '../services/session-service.ts';
import { fullName } from '../domain/display.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Methods that change nothing: the only ones a session cookie may use without the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves the caller: `Authorization: Zoho-oauthtoken <token>`, or else the console's session
 * cookie, and counts the request against its rate limit. A request with the cookie that changes
 * state must carry the session's `X-CSRF-Token` (CSRF_TOKEN_INVALID). Neither credential is
 * AUTHENTICATION_FAILURE; a bad, expired or revoked token is INVALID_TOKEN, an ended session
 * AUTHENTICATION_FAILURE; past the limit, TOO_MANY_REQUESTS.
 */
export async function authenticate(services: Pick<Services, 'oauth' | 'sessions'>, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const header = request.headers.authorization;
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (header === undefined && cookie) {
    const session = await services.sessions.authenticate(cookie);
    if (!SAFE_METHODS.has(request.method) && !services.sessions.csrfMatches(session, request.headers['x-csrf-token'])) {
      throw new AppError('CSRF_TOKEN_INVALID', 'the request lacks this session\'s CSRF token (X-CSRF-Token): reload the page', {});
    }
    await services.oauth.limitApi(session.principal, `session:${cookie}`);
    request.principal = session.principal;
    return session.principal;
  }
  return authenticateToken(services.oauth, request);
}

/** The OAuth token alone (routes no session may use). */
export async function authenticateToken(oauth: OAuthService, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const header = request.headers.authorization;
  // Zoho's own scheme, and the standard one the token endpoint's `token_type: Bearer` announces.
  const m = header ? /^(?:Zoho-oauthtoken|Bearer)\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new AppError('AUTHENTICATION_FAILURE', 'Authentication failed', {});
  const principal = await oauth.authenticate(m[1]);
  await oauth.limitApi(principal, m[1]);
  request.principal = principal;
  return principal;
}

/** OAUTH_SCOPE_MISMATCH unless the token carries one of the scopes. */
export function requireScope(principal: Principal, ...anyOf: string[]) {
  if (!anyOf.some((s) => scopeCovers(principal.scopes, s))) {
    // A console session holds what the user's profile allows: beyond it is a permission it lacks.
    if (principal.viaSession) throw new AppError('NO_PERMISSION', 'permission denied', { permissions: anyOf });
    throw new AppError('OAUTH_SCOPE_MISMATCH', 'Unauthorized', {});
  }
}

export function actorOf(principal: Principal, request: FastifyRequest): Actor {
  return {
    orgId: principal.org.id, type: 'user', userId: principal.user.id, name: fullName(principal.user), source: principal.viaSession ? 'crm_ui' : 'api',
    ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null, isAdmin: principal.isAdmin,
    permissions: principal.permissions, roleId: principal.user.role_id, timeZone: principal.org.time_zone,
  };
}

/** Authenticates, checks scopes and returns the actor, in one call at the top of a handler. */
export async function guard(oauth: OAuthService, request: FastifyRequest, ...scopes: string[]) {
  const principal = await authenticateToken(oauth, request);
  requireScope(principal, ...scopes);
  return { principal, actor: actorOf(principal, request) };
}

/**
 * As guard, for a route on the module named in the path: the token's scope for the name is
 * checked before the module is looked up, so an unknown module tells nothing to an unauthorised
 * caller.
 */
export async function guardModule(oauth: OAuthService, request: FastifyRequest, op: Operation,
  resolve: (name: string) => ModuleDef = requireModule) {
  const name = (request.params as { module: string }).module;
  const guarded = await guard(oauth, request, moduleScope(name, op));
  return { ...guarded, module: resolve(name) };
}
