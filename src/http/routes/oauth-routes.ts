import type { FastifyInstance, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { HttpDeps } from '../app.ts';
import { baseUrl, route } from '../route.ts';
import type { TokenRequest } from '../../services/oauth-service.ts';
import { isAppError } from '../../domain/errors.ts';

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
    POST: async (request, reply) => {
      try {
        return await deps.services.oauth.grant(params(request) as TokenRequest, ctx(request));
      } catch (e) {
        if (!isAppError(e) || e.code !== 'TOO_MANY_REQUESTS') throw e;
        // Zoho's accounts server words it as `error: Access Denied`, the key the SDK reports.
        return reply.code(e.status).header('retry-after', String(e.details.retry_after))
          .send({ ...e.toBody(), error: 'Access Denied', error_description: e.message });
      }
    },
  }, { public: true });
  route(app, '/oauth/v2/token/revoke', {
    POST: async (request) => deps.services.oauth.revoke(params(request).token, ctx(request)),
  }, { public: true });
}
