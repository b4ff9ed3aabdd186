import path from 'node:path';
import { z } from 'zod';

/** One validated configuration, built once at start from the environment and flags (flags win). */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Base URL the server advertises (`api_domain`); default: derived from each request's Host. */
  publicUrl?: string;
  /** How long a worker's claim on a job lasts without a heartbeat before another worker takes over. */
  workerLeaseMs: number;
  /** Behind a reverse proxy: how many proxy hops to trust for the client IP (0: none). */
  trustProxy: number;
  /** A witness URL that receives every signed chain head (POST, JSON). */
  headsUrl?: string;
  /** How often moved chain heads are signed (at most a minute). */
  headsIntervalMs: number;
  /** A console session unused this long ends. */
  sessionIdleMinutes: number;
  /** Outgoing email for alerts and scheduled reports (`smtp://host:port`); unset: no email. */
  smtpUrl?: string;
  /** The From address of that email. */
  smtpFrom: string;
  /** Allow plain-http webhooks to any host, not only loopback (a trusted internal network). */
  webhookAllowHttp: boolean;
}

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  publicUrl: z.string().url().optional(),
  workerLeaseMs: z.coerce.number().int().min(500).max(3_600_000),
  trustProxy: z.coerce.number().int().min(0).max(10),
  headsUrl: z.string().url().optional(),
  headsIntervalMs: z.coerce.number().int().min(1000).max(60_000),
  sessionIdleMinutes: z.coerce.number().int().min(1).max(24 * 60),
  smtpUrl: z.string().regex(/^smtps?:\/\//, 'AUDITRAIL_SMTP_URL must be an smtp:// or smtps:// URL').optional(),
  smtpFrom: z.string().min(3),
  webhookAllowHttp: z.boolean(),
});

export interface ConfigFlags { port?: string | number; host?: string; dataDir?: string }

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse({
    port: flags.port ?? env.AUDITRAIL_PORT ?? 4000,
    host: flags.host ?? env.AUDITRAIL_HOST ?? '127.0.0.1',
    dataDir: path.resolve(flags.dataDir ?? env.AUDITRAIL_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    logLevel: env.AUDITRAIL_LOG_LEVEL ?? 'info',
    publicUrl: env.AUDITRAIL_PUBLIC_URL || undefined,
    workerLeaseMs: env.AUDITRAIL_WORKER_LEASE_MS || 30_000,
    trustProxy: env.AUDITRAIL_TRUST_PROXY || 0,
    headsUrl: env.AUDITRAIL_HEADS_URL || undefined,
    headsIntervalMs: env.AUDITRAIL_HEADS_INTERVAL_MS || 60_000,
    sessionIdleMinutes: env.AUDITRAIL_SESSION_IDLE_MINUTES || 30,
    smtpUrl: env.AUDITRAIL_SMTP_URL || undefined,
    smtpFrom: env.AUDITRAIL_SMTP_FROM || 'auditrail <auditrail@localhost>',
    webhookAllowHttp: ['1', 'true', 'yes'].includes((env.AUDITRAIL_WEBHOOK_ALLOW_HTTP ?? '').toLowerCase()),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
