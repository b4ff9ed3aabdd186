import type { FastifyInstance, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { z } from 'zod';
import multipart from '@fastify/multipart';
import type { HttpDeps } from '../app.ts';
import { baseUrl, op, route } from '../route.ts';
import { documented } from '../schemas.ts';
import type { TokenRequest } from '../../services/oauth-service.ts';
import { isAppError } from '../../domain/errors.ts';

const FORMS = ['application/x-www-form-urlencoded', 'multipart/form-data'];
/** The token request: form fields or query parameters; the service answers `{error}` for a bad one. */
const TokenForm = documented(z.object({
  grant_type: z.enum(['authorization_code', 'refresh_token', 'client_credentials']), client_id: z.string(), client_secret: z.string(),
  code: z.string().optional(), refresh_token: z.string().optional(), redirect_uri: z.string().optional(), scope: z.string().optional(),
  soid: z.string().optional().describe('client_credentials: ZohoCRM.{org id}'),
}));
const Denied = z.looseObject({ error: z.string().describe('invalid_request, invalid_client, invalid_code, ... (HTTP 200, as Zoho\'s accounts server)') });
const Tokens = z.union([z.looseObject({ access_token: z.string(), refresh_token: z.string().optional(), scope: z.string(),
  api_domain: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() }), Denied]);

/**
 * Zoho's accounts endpoints. Parameters come as multipart (the SDK), urlencoded forms or the
 * query string; answers are JSON with `error` on failure, status 200 as Zoho's accounts server.
 */
export async function oauthRoutes(app: FastifyInstance, deps: HttpDeps) {
  await app.register(formbody);
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 64 * 1024, files: 0 } });

  const params = (request: FastifyRequest): Record<string, string | undefined> => {
    const out: Record<string, string | undefined> = {};
    for (const source of [request.query, request.body]) {
      if (!source || typeof source !== 'object') continue;
      for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
        const value = Array.isArray(v) ? v[0] : v;
        if (typeof value === 'string') out[k] = value;
        else if (Buffer.isBuffer(value)) out[k] = value.toString('utf8');
      }
    }
    return out;
  };
  const ctx = (request: FastifyRequest) => ({
    ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null, baseUrl: baseUrl(request, deps.publicUrl),
  });

  route(app, '/oauth/v2/token', {
    POST: op({
      summary: 'Issue tokens: authorization code, refresh token or client credentials grant (no token)',
      body: TokenForm,
      bodyTypes: FORMS,
      responses: { 200: Tokens },
      handler: async (request, reply) => {
        try {
          return await deps.services.oauth.grant(params(request) as TokenRequest, ctx(request));
        } catch (e) {
          if (!isAppError(e) || e.code !== 'TOO_MANY_REQUESTS') throw e;
          // Zoho's accounts server words it as `error: Access Denied`, the key the SDK reports.
          return reply.code(e.status).header('retry-after', String(e.details.retry_after))
            .send({ ...e.toBody(), error: 'Access Denied', error_description: e.message });
        }
      },
    }),
  }, { public: true });
  route(app, '/oauth/v2/token/revoke', {
    POST: op({
      summary: 'Revoke a refresh token (with its access tokens) or an access token (no token)',
      body: documented(z.object({ token: z.string() })),
      bodyTypes: FORMS,
      responses: { 200: z.union([z.object({ status: z.literal('success') }), Denied]) },
      handler: async (request) => deps.services.oauth.revoke(params(request).token, ctx(request)),
    }),
  }, { public: true });
}
