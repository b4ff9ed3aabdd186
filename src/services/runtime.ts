import type { Store } from '../store/db.ts';
import type { Logger, ServiceDeps } from './context.ts';
import { createServices, type Services } from './index.ts';
import { createDemoService } from './demo-service.ts';

/** What a CLI command or the server needs: the store and every service over it. */
export interface Runtime {
  store: Store;
  services: Services;
  demo: ReturnType<typeof createDemoService>;
  logger: Logger;
  deps: ServiceDeps;
}

export function createRuntime(store: Store, logger: Logger, opts: { publicUrl?: string; clock?: () => number } = {}): Runtime {
  const deps: ServiceDeps = { store, clock: opts.clock ?? Date.now, logger };
  return { store, services: createServices(deps, { publicUrl: opts.publicUrl }), demo: createDemoService(deps), logger, deps };
}
