import path from 'node:path';
import type { Store } from '../store/db.ts';
import type { Logger, ServiceDeps } from './context.ts';
import { createServices, type AlertsConfig, type Services } from './index.ts';
import { createDemoService } from './demo-service.ts';
import { loadOrCreateKey } from './integrity-service.ts';
import { blobStoreFor, type BlobStore } from '../store/blob-store.ts';
import type { Mailer } from './mailer.ts';

/** What a CLI command or the server needs: the store and every service over it. */
export interface Runtime {
  store: Store;
  services: Services;
  demo: ReturnType<typeof createDemoService>;
  logger: Logger;
  deps: ServiceDeps;
  blobs: BlobStore;
}

/**
 * `keyDir` holds the installation's Ed25519 signing key (created on first use); without one,
 * the key lives in memory for this process only (tests). Signed chain heads are also appended to
 * `<keyDir>/heads.log` and, with `headsUrl`, POSTed to a witness.
 */
export function createRuntime(store: Store, logger: Logger,
  opts: { publicUrl?: string; clock?: () => number; keyDir?: string | null; blobDir?: string | null;
    exportLimits?: { rowsPerFile?: number; maxEntries?: number }; headsUrl?: string | null;
    sessions?: { idleMs: number; maxAgeMs: number }; mailer?: Mailer; webhookAllowHttp?: boolean; alerts?: AlertsConfig;
    streams?: { allowHttp: boolean; idleMs?: number } } = {}): Runtime {
  const deps: ServiceDeps = { store, clock: opts.clock ?? Date.now, logger };
  const signingKey = loadOrCreateKey(opts.keyDir ?? null);
  const blobs = blobStoreFor(store, opts.blobDir ?? null);
  return { store, services: createServices(deps, { publicUrl: opts.publicUrl, signingKey, blobs, exportLimits: opts.exportLimits,
    heads: { logFile: opts.keyDir ? path.join(opts.keyDir, 'heads.log') : null, witnessUrl: opts.headsUrl ?? null }, sessions: opts.sessions,
    mailer: opts.mailer, webhookAllowHttp: opts.webhookAllowHttp, alerts: opts.alerts, streams: opts.streams }), demo: createDemoService(deps),
    logger, deps, blobs };
}
