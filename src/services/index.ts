import type { ServiceDeps } from './context.ts';
import { createDirectoryService } from './directory-service.ts';
import { createRecordService } from './record-service.ts';
import { createModuleExportService } from './module-export-service.ts';
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
import { createFindingService } from './finding-service.ts';
import { createReportService } from './report-service.ts';
import { createSharingService } from './sharing-service.ts';
import { createEntryFeed } from './entry-feed.ts';
import { createAlertService } from './alert-service.ts';
import { createMailer, type Mailer } from './mailer.ts';

/** Outgoing alerts: SMTP, webhooks, and the console's address for links (config: AUDITRAIL_SMTP_URL, ...). */
export interface AlertsConfig {
  smtpUrl?: string;
  smtpFrom?: string;
  webhookAllowHttp?: boolean;
  /** How long a sender's claim on a delivery lasts (default 30 s). */
  claimMs?: number;
  /** Where people reach the console, for links in emails (default: the public URL). */
  consoleUrl?: string;
}
import { createStreamService, type StreamOptions } from './stream-service.ts';

/** Every service, wired to the same store, clock and logger. */
export function createServices(deps: ServiceDeps, opts: { publicUrl?: string; signingKey: SigningKey; blobs: BlobStore;
  exportLimits?: { rowsPerFile?: number; maxEntries?: number }; heads?: HeadsOptions; sessions?: SessionOptions;
  mailer?: Mailer; webhookAllowHttp?: boolean; alerts?: AlertsConfig; streams?: Omit<StreamOptions, 'actorForUser'> }) {
  const integrity = createIntegrityService(deps, opts.signingKey);
  const heads = createHeadsService(deps, integrity, opts.heads ?? { logFile: null, witnessUrl: null });
  const records = createRecordService(deps);
  const directory = createDirectoryService(deps);
  const feed = createEntryFeed(deps);
  const a = opts.alerts ?? {};
  return {
    feed,
    alerts: createAlertService(deps, feed, { mailer: createMailer(a.smtpUrl, a.smtpFrom ?? 'auditrail <auditrail@localhost>'),
      webhookAllowHttp: a.webhookAllowHttp ?? false, consoleUrl: a.consoleUrl ?? opts.publicUrl ?? 'http://127.0.0.1:4000', claimMs: a.claimMs ?? 30_000 }),
    actions: createCrmActionsService(deps, records),
    integrity,
    heads,
    exports: createExportService(deps, opts.blobs, integrity, heads, opts.exportLimits),
    recycleBin: createRecycleBinService(deps, opts.blobs),
    attachments: createAttachmentService(deps, opts.blobs),
    auditLog: createAuditLogService(deps),
    retention: createRetentionService(deps, integrity),
    directory,
    reports: createReportService(deps, { mailer: opts.mailer ?? createMailer(undefined, ''), webhookAllowHttp: opts.webhookAllowHttp ?? false,
      publicUrl: opts.publicUrl, actorForUser: (orgId, userId) => directory.actorForUser(orgId, userId) }),
    records,
    moduleExports: createModuleExportService(deps, records),
    oauth: createOAuthService(deps, (ctx: RequestContext) => opts.publicUrl ?? ctx.baseUrl ?? 'http://127.0.0.1:4000'),
    audit: createAuditService(deps, integrity, heads),
    findings: createFindingService(deps),
    sharing: createSharingService(deps),
    sessions: createSessionService(deps, opts.sessions ?? { idleMs: 30 * 60_000, maxAgeMs: 12 * 3600_000 }),
    streams: createStreamService(deps, { allowHttp: false, ...opts.streams, actorForUser: directory.actorForUser }),
  };
}

export type Services = ReturnType<typeof createServices>;
