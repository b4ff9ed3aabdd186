import type { Runtime } from '../services/runtime.ts';
import { buildApp } from './app.ts';
import { createPageTokenCodec } from './page-token.ts';

/** Builds the HTTP app over a runtime (used by `serve`, the tests and the benchmarks); listens nowhere. */
export async function createHttpApp(rt: Runtime, opts: { logLevel?: string; publicUrl?: string; trustProxy?: number;
  console?: false | { dist: string } } = {}) {
  const secret = await rt.store.repos.kv.sharedSecret('page_token_secret');
  return buildApp({ services: rt.services, pageTokens: createPageTokenCodec(secret), logger: rt.logger,
    logLevel: opts.logLevel, publicUrl: opts.publicUrl, trustProxy: opts.trustProxy, console: opts.console });
}
