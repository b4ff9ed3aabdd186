import type { Store } from '../store/db.ts';
import type { Logger, ServiceDeps } from './context.ts';
import { createServices, type Services } from './index.ts';
import { createDemoService } from './demo-service.ts';
import { loadOrCreateKey } from './integrity-service.ts';

/** What a CLI command or the server needs: the store and every service over it. */
export interface Runtime {
  store: Store;
  services: Services;
  demo: ReturnType<typeof createDemoService>;
  logger: Logger;
  deps: ServiceDeps;
}

/**
 * `keyDir` holds the installation's Ed25519 signing key (created on first use); without one,
 * the key lives in memory for this process only (tests).
 */
export function createRuntime(store: Store, logger: Logger,
  opts: { publicUrl?: string; clock?: () => number; keyDir?: string | null } = {}): Runtime {
  const deps: ServiceDeps = { store, clock: opts.clock ?? Date.now, logger };
  const signingKey = loadOrCreateKey(opts.keyDir ?? null);
  return { store, services: createServices(deps, { publicUrl: opts.publicUrl, signingKey }), demo: createDemoService(deps), logger, deps };
}
