import type { ServiceDeps } from './context.ts';
import { createDirectoryService } from './directory-service.ts';
import { createRecordService } from './record-service.ts';
import { createOAuthService, type RequestContext } from './oauth-service.ts';
import { createAuditService } from './audit-service.ts';

/** Every service, wired to the same store, clock and logger. */
export function createServices(deps: ServiceDeps, opts: { publicUrl?: string }) {
  return {
    directory: createDirectoryService(deps),
    records: createRecordService(deps),
    oauth: createOAuthService(deps, (ctx: RequestContext) => opts.publicUrl ?? ctx.baseUrl ?? 'http://127.0.0.1:4000'),
    audit: createAuditService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
