import type { ServiceDeps } from './context.ts';
import { createDirectoryService } from './directory-service.ts';
import { createRecordService } from './record-service.ts';
import { createOAuthService, type RequestContext } from './oauth-service.ts';
import { createAuditService } from './audit-service.ts';
import { createAuditLogService } from './audit-log-service.ts';
import { createIntegrityService, type SigningKey } from './integrity-service.ts';
import { createHeadsService, type HeadsOptions } from './heads-service.ts';
import { createRetentionService } from './retention-service.ts';
import { createExportService } from './export-service.ts';
import { createRecycleBinService } from './recycle-bin-service.ts';
import { createAttachmentService } from './attachment-service.ts';
import { createCrmActionsService } from './crm-actions-service.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { createSessionService, type SessionOptions } from './session-service.ts';
import { createSharingService } from './sharing-service.ts';
import { createStreamService, type StreamOptions } from './stream-service.ts';

/** Every service, wired to the same store, clock and logger. */
export function createServices(deps: ServiceDeps, opts: { publicUrl?: string; signingKey: SigningKey; blobs: BlobStore;
  exportLimits?: { rowsPerFile?: number; maxEntries?: number }; heads?: HeadsOptions; sessions?: SessionOptions;
  streams?: Omit<StreamOptions, 'actorForUser'> }) {
  const integrity = createIntegrityService(deps, opts.signingKey);
  const heads = createHeadsService(deps, integrity, opts.heads ?? { logFile: null, witnessUrl: null });
  const records = createRecordService(deps);
  const directory = createDirectoryService(deps);
  return {
    actions: createCrmActionsService(deps, records),
    integrity,
    heads,
    exports: createExportService(deps, opts.blobs, integrity, heads, opts.exportLimits),
    recycleBin: createRecycleBinService(deps, opts.blobs),
    attachments: createAttachmentService(deps, opts.blobs),
    auditLog: createAuditLogService(deps),
    retention: createRetentionService(deps, integrity),
    directory,
    records,
    oauth: createOAuthService(deps, (ctx: RequestContext) => opts.publicUrl ?? ctx.baseUrl ?? 'http://127.0.0.1:4000'),
    audit: createAuditService(deps, integrity, heads),
    sharing: createSharingService(deps),
    sessions: createSessionService(deps, opts.sessions ?? { idleMs: 30 * 60_000, maxAgeMs: 12 * 3600_000 }),
    streams: createStreamService(deps, { allowHttp: false, ...opts.streams, actorForUser: directory.actorForUser }),
  };
}

export type Services = ReturnType<typeof createServices>;
