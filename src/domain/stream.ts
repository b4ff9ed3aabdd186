import { AppError } from './errors.ts';

/**
 * SIEM streams: an organisation's audit entries, as its owner may see them, sent continuously to
 * an HTTPS endpoint (JSON lines), a syslog receiver (RFC 5424 over TCP or TLS) or NATS JetStream.
 * Pure rules here: the types, the input checks, the syslog encoding and the action -> severity map.
 */

export const STREAM_TYPES = ['https', 'syslog', 'nats'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];
export type StreamStatus = 'active' | 'paused';

export interface HttpsConfig { url: string; batch_size: number }
export interface SyslogConfig { host: string; port: number; tls: boolean; ca_pem: string | null; server_name: string | null;
  facility: number; hostname: string | null; batch_size: number }
export interface NatsConfig { servers: string[]; subject: string; stream: string | null; create_stream: boolean; batch_size: number }
export type StreamConfig = HttpsConfig | SyslogConfig | NatsConfig;

/** What is stored but never shown again after creation. */
export interface StreamSecrets { hmac_secret?: string; nats_user?: string; nats_pass?: string; nats_token?: string }

export const DEFAULT_BATCH = 100;
export const MAX_BATCH = 1000;
/** RFC 5424 facility 13, "log audit". */
export const DEFAULT_FACILITY = 13;

const bad = (field: string, message: string) => new AppError('INVALID_DATA', message, { api_name: field });

function str(v: unknown, field: string, opts: { max?: number; optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new AppError('MANDATORY_NOT_FOUND', `${field} is required`, { api_name: field });
  }
  if (typeof v !== 'string' || v.trim() === '') throw bad(field, `${field} must be a non-empty string`);
  if (v.length > (opts.max ?? 1000)) throw bad(field, `${field} is longer than ${opts.max ?? 1000} characters`);
  return v.trim();
}

function int(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `${field} must be an integer from ${min} to ${max}`);
  return v;
}

function bool(v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw bad(field, `${field} must be true or false`);
  return v;
}

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$|^\d{1,3}(\.\d{1,3}){3}$|^\[?[0-9A-Fa-f:.]+\]?$/;
/** A NATS subject: tokens of letters, digits, `-` and `_`, joined by dots (no wildcards: it is published to). */
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const JS_STREAM = /^[A-Za-z0-9_-]{1,64}$/;

/** The default subject of an organisation's entries: `auditrail.<org id>.audit`. */
export const defaultSubject = (orgId: string) => `auditrail.${orgId}.audit`;

/**
 * A destination's settings from input, with defaults, the secrets apart. `checkUrl` checks an
 * HTTPS endpoint's URL (webhook-sender's rule: https, plain http only to loopback). Throws
 * INVALID_DATA or MANDATORY_NOT_FOUND naming the field.
 */
export function parseDestination(type: StreamType, raw: Record<string, unknown>, orgId: string, checkUrl: (url: string) => URL):
  { config: StreamConfig; secrets: StreamSecrets } {
  const batch = int(raw.batch_size, 'batch_size', 1, MAX_BATCH, DEFAULT_BATCH);
  if (type === 'https') {
    const url = checkUrl(str(raw.url, 'url', { max: 2000 })!).toString();
    const secret = str(raw.secret, 'secret', { max: 200, optional: true });
    if (secret !== undefined && secret.length < 16) throw bad('secret', 'secret must be at least 16 characters');
    return { config: { url, batch_size: batch }, secrets: secret ? { hmac_secret: secret } : {} };
  }
  if (type === 'syslog') {
    const host = str(raw.host, 'host', { max: 253 })!;
    if (!HOST.test(host)) throw bad('host', 'host must be a host name or an IP address');
    const tls = bool(raw.tls, 'tls', false);
    const ca = str(raw.ca_pem, 'ca_pem', { max: 64_000, optional: true });
    if (ca !== undefined && !/-----BEGIN CERTIFICATE-----/.test(ca)) throw bad('ca_pem', 'ca_pem must hold PEM certificates');
    if (ca !== undefined && !tls) throw bad('ca_pem', 'ca_pem is for TLS: set tls to true');
    const hostname = str(raw.hostname, 'hostname', { max: 255, optional: true });
    if (hostname !== undefined && !/^[\x21-\x7e]+$/.test(hostname)) throw bad('hostname', 'hostname must be printable ASCII without spaces');
    return { config: { host, port: int(raw.port, 'port', 1, 65535, tls ? 6514 : 601), tls, ca_pem: ca ?? null,
      server_name: str(raw.server_name, 'server_name', { max: 253, optional: true }) ?? null,
      facility: int(raw.facility, 'facility', 0, 23, DEFAULT_FACILITY), hostname: hostname ?? null, batch_size: batch }, secrets: {} };
  }
  const list = Array.isArray(raw.servers) ? raw.servers : raw.servers === undefined ? ['nats://127.0.0.1:4222'] : [raw.servers];
  if (list.length === 0 || list.length > 10) throw bad('servers', 'servers must name 1 to 10 NATS servers');
  const servers = list.map((s) => {
    const v = str(s, 'servers', { max: 500 })!;
    if (!/^(nats|tls):\/\/[^\s/@]+$/.test(v)) throw bad('servers', 'each server is nats://host:port or tls://host:port, without credentials');
    return v;
  });
  const subject = str(raw.subject, 'subject', { max: 200, optional: true }) ?? defaultSubject(orgId);
  if (!SUBJECT.test(subject)) throw bad('subject', 'subject must be dot-separated tokens of letters, digits, - and _ (no wildcards)');
  const stream = str(raw.stream, 'stream', { max: 64, optional: true }) ?? null;
  if (stream !== null && !JS_STREAM.test(stream)) throw bad('stream', 'stream must be a JetStream stream name (letters, digits, - and _)');
  const createStream = bool(raw.create_stream, 'create_stream', false);
  if (createStream && stream === null) throw bad('create_stream', 'create_stream needs the stream\'s name in stream');
  const secrets: StreamSecrets = {};
  const user = str(raw.user, 'user', { max: 200, optional: true });
  const pass = str(raw.pass, 'pass', { max: 500, optional: true });
  const token = str(raw.token, 'token', { max: 500, optional: true });
  if ((user === undefined) !== (pass === undefined)) throw bad(user === undefined ? 'user' : 'pass', 'user and pass go together');
  if (token !== undefined && user !== undefined) throw bad('token', 'give a token or a user and pass, not both');
  if (user !== undefined) Object.assign(secrets, { nats_user: user, nats_pass: pass });
  if (token !== undefined) secrets.nats_token = token;
  return { config: { servers, subject, stream, create_stream: createStream, batch_size: batch }, secrets };
}

/** The names of the secrets a stream holds (what its view shows instead of their values). */
export const secretNames = (s: StreamSecrets) => Object.keys(s).filter((k) => s[k as keyof StreamSecrets] !== undefined).sort();

// ---- syslog (RFC 5424, framed by octet counting as RFC 6587 3.4.1) ----------------------

/** RFC 5424 severities. */
export const SEVERITY = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6, debug: 7 } as const;

/**
 * An action's syslog severity: warning for what removes data or evidence, or refused sign-ins;
 * notice for changes to who may do what (users, roles, profiles, sharing, OAuth, the
 * organisation, streams) and for evidence leaving (exports, downloads); informational otherwise.
 */
export const ACTION_SEVERITY: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(['deleted', 'permanently_deleted', 'mass_deleted', 'recycle_bin_emptied', 'login_failed', 'audit_log_purged',
    'user_deleted', 'role_deleted', 'profile_deleted', 'token_revoked', 'oauth_client_revoked', 'stream_deleted']
    .map((a) => [a, SEVERITY.warning])),
  ...Object.fromEntries(['user_added', 'user_updated', 'role_added', 'role_updated', 'profile_added', 'profile_updated',
    'oauth_client_created', 'oauth_client_unlocked', 'oauth_grant_code_issued', 'org_created', 'org_updated', 'sharing_updated',
    'exported', 'audit_log_exported', 'audit_log_downloaded', 'stream_created', 'stream_updated', 'stream_rewound']
    .map((a) => [a, SEVERITY.notice])),
});

export const severityOf = (action: string): number => ACTION_SEVERITY[action] ?? SEVERITY.informational;

/** Our structured data element's id: name@<enterprise number>; 32473 is the number RFC 5612 reserves for documentation. */
export const SD_ID = 'auditrail@32473';

const sdValue = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);
/** PRINTUSASCII, at most `max` characters, or the NILVALUE. */
const header = (v: string | null, max: number) => {
  const s = (v ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return s === '' ? '-' : s;
};

export interface SyslogEntry { seq: number; hash: string; action: string; auditedAt: number; json: string }

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME auditrail - MSGID [auditrail@32473 seq="" hash="" org="" stream=""] BOM MSG`,
 * PRI = facility * 8 + severityOf(action), MSGID the action, MSG the entry's JSON.
 */
export function syslogMessage(e: SyslogEntry, opts: { facility: number; hostname: string; orgId: string; streamId: string }): string {
  const pri = opts.facility * 8 + severityOf(e.action);
  const sd = `[${SD_ID} seq="${e.seq}" hash="${sdValue(e.hash)}" org="${sdValue(opts.orgId)}" stream="${sdValue(opts.streamId)}"]`;
  return `<${pri}>1 ${new Date(e.auditedAt).toISOString()} ${header(opts.hostname, 255)} auditrail - ${header(e.action, 32)} ${sd} \uFEFF${e.json}`;
}

/** RFC 6587 octet-counting framing: the message's length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
