import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAppError } from '../../domain/errors.ts';
import {
  eventFromApiEntry, findingView, FINDING_KINDS, parseFindingSettings, applyFindingSettingsPatch, DEFAULT_FINDING_SETTINGS,
  type DetectorEvent, type FindingKind, type Severity,
} from '../../domain/findings.ts';
import { detectAll } from '../../domain/findings-detectors.ts';
import { isValidTimeZone, parseDateTime } from '../../domain/time.ts';
import { systemActor } from '../../services/context.ts';
import type { Runtime } from '../../services/runtime.ts';
import { cliActorName } from '../cli-actor.ts';
import type { CliCommand } from '../command.ts';
import { resolveOrg } from '../org-option.ts';
import { CliError, out } from '../output.ts';

export interface FindingsFlags { org?: string; json?: boolean; kind?: string; from?: string; to?: string; user?: string }

const time = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const ms = parseDateTime(v);
  if (ms === null) throw new CliError(`--${name} must be ISO 8601 with an offset, for example 2026-03-01T00:00:00+00:00`, 2);
  return ms;
};

/** `auditrail findings`: the organisation's stored findings, newest first, as a table or `--json` in the API's shape. */
export async function findingsListCommand(rt: Runtime, opts: FindingsFlags) {
  const org = await resolveOrg(rt, opts.org);
  const actor = { ...systemActor(org.id, cliActorName(), org.time_zone), userAgent: 'auditrail-cli' };
  const rows = await rt.services.findings.list(actor, { kinds: opts.kind?.split(',').map((k) => k.trim()).filter(Boolean),
    from: time(opts.from, 'from'), to: time(opts.to, 'to'), userId: opts.user });
  const views = rows.map((f) => ({
    ...findingView({ id: f.id, kind: f.kind as FindingKind, severity: f.severity as Severity, userId: f.user_id, userName: f.user_name,
      startedAt: Number(f.started_at), endedAt: Number(f.ended_at), explanation: f.explanation, entryIds: JSON.parse(f.entry_ids) as string[] },
    org.time_zone),
    acknowledged: f.acknowledged_at !== null,
  }));
  if (opts.json) {
    out(JSON.stringify({ findings: views }));
    return 0;
  }
  if (views.length === 0) out('no findings');
  for (const f of views) {
    out(`${f.id}  ${f.started_at}  ${f.severity.padEnd(6)}  ${f.kind.padEnd(18)}  ${f.user.name}: ${f.explanation}${f.acknowledged ? '  [acknowledged]' : ''}`);
  }
  return 0;
}

/** `auditrail findings ack <id>`: acknowledges a finding, audited under the CLI's operator. */
export async function findingsAckCommand(rt: Runtime, id: string, opts: { org?: string; note?: string }) {
  const org = await resolveOrg(rt, opts.org);
  const actor = { ...systemActor(org.id, cliActorName(), org.time_zone), userAgent: 'auditrail-cli' };
  const f = await rt.services.findings.acknowledge(actor, id, opts.note);
  out(`acknowledged ${f.id} (${f.kind}: ${f.user_name})`);
  return 0;
}

/** `auditrail findings scan`: runs the detectors now over entries not yet scanned (the server does this each minute). */
export async function findingsScanCommand(rt: Runtime, opts: { org?: string }) {
  const orgs = opts.org ? [await resolveOrg(rt, opts.org)] : await rt.services.directory.listOrgs();
  for (const org of orgs) {
    const r = await rt.services.findings.scanOrganisation(org.id);
    out(`${org.name}: scanned ${r.scanned} entries, ${r.findings} findings made or extended`);
  }
  return 0;
}

export interface EvaluateFlags { entries: string; users?: string; timeZone?: string; settings?: string }

/** Users as `GET /crm/v8/users` answers them (or a bare array): names, and which profiles are the Administrator. */
function readUsers(file: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`--users: ${(e as Error).message}`, 2);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw new CliError('--users must hold {"users": [...]} as GET /crm/v8/users answers, or an array of users', 2);
  const names = new Map<string, string>();
  const admins = new Set<string>();
  for (const u of list as Record<string, unknown>[]) {
    const name = typeof u.full_name === 'string' ? u.full_name : typeof u.name === 'string' ? u.name : null;
    if (typeof u.id === 'string' && name) names.set(u.id, name);
    const p = u.profile as { id?: unknown; name?: unknown } | null | undefined;
    if (p && typeof p.id === 'string' && typeof p.name === 'string') {
      names.set(p.id, p.name);
      if (p.name === 'Administrator') admins.add(p.id);
    }
    const r = u.role as { id?: unknown; name?: unknown } | null | undefined;
    if (r && typeof r.id === 'string' && typeof r.name === 'string') names.set(r.id, r.name);
  }
  return { names, admins };
}

/**
 * `auditrail findings evaluate --entries <file.jsonl>`: the detectors over a JSON-lines file of
 * entries in the audit log API's shape, in time order, with the default thresholds or
 * `--settings`. Opens no database and writes no file: it prints `{"findings": [...]}` in the
 * API's shape, each finding's id being its first entry's.
 */
export async function findingsEvaluateCommand(opts: EvaluateFlags) {
  const tz = opts.timeZone ?? 'UTC';
  if (!isValidTimeZone(tz)) throw new CliError(`--time-zone: unknown time zone ${tz}`, 2);
  const users = opts.users ? readUsers(opts.users) : { names: new Map<string, string>(), admins: new Set<string>() };
  let settings = DEFAULT_FINDING_SETTINGS;
  if (opts.settings) {
    try {
      const raw = JSON.parse(readFileSync(opts.settings, 'utf8')) as { settings?: unknown };
      settings = applyFindingSettingsPatch(parseFindingSettings(null), raw.settings ?? raw).next;
    } catch (e) {
      throw new CliError(`--settings: ${isAppError(e) ? e.message : (e as Error).message}`, 2);
    }
  }
  const events: DetectorEvent[] = [];
  let line = 0;
  try {
    for await (const text of createInterface({ input: createReadStream(opts.entries, 'utf8'), crlfDelay: Infinity })) {
      line += 1;
      if (!text.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        throw new CliError(`${opts.entries}:${line}: not JSON`, 2);
      }
      try {
        events.push(eventFromApiEntry(raw));
      } catch (e) {
        throw new CliError(`${opts.entries}:${line}: ${isAppError(e) ? e.message : String(e)}`, 2);
      }
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--entries: ${(e as Error).message}`, 2);
  }
  // The audit log API answers newest first, exports oldest first: the detectors read in time order.
  events.sort((a, b) => a.at - b.at);
  const found = detectAll(events, { timeZone: tz, adminProfileIds: users.admins, names: users.names }, settings);
  out(JSON.stringify({ findings: found.map((f) => findingView({ ...f, id: f.key.slice(f.key.indexOf(':') + 1),
    userName: (f.userId && users.names.get(f.userId)) || f.userName }, tz)) }));
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--org <id>', 'organisation id (default: the first)').option('--json', 'print {"findings": [...]} as the API answers')
      .option('--kind <kinds>', `comma-separated: ${FINDING_KINDS.join(', ')}`)
      .option('--from <time>', 'findings that end at or after this time (ISO 8601)')
      .option('--to <time>', 'findings that start at or before this time (ISO 8601)')
      .option('--user <id>', 'findings about this user')
      // Reading findings writes an audit_log_viewed entry, as reading the log does: the schema must be current.
      .action(ctx.action((o: FindingsFlags) => ctx.withRuntime({ migrate: false }, (rt) => findingsListCommand(rt, o))));
    cmd.command('ack').description('acknowledge a finding (audited as finding_acknowledged)').argument('<id>')
      .option('--org <id>').option('--note <text>', 'why it is fine, or what was done')
      .action(ctx.action((id: string, o: { org?: string; note?: string }) => ctx.withRuntime({ migrate: true }, (rt) => findingsAckCommand(rt, id, o))));
    cmd.command('scan').description('run the detectors now over entries not yet scanned (the server does this every minute)')
      .option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => findingsScanCommand(rt, o))));
    cmd.command('evaluate').description('run the detectors over a JSON-lines file of audit log entries, offline: no database, writes nothing')
      .requiredOption('--entries <file>', 'JSON lines, one audit log entry each, as the API renders them')
      .option('--users <file>', 'users as GET /crm/v8/users answers: names, and which profile is the Administrator')
      .option('--time-zone <tz>', 'the organisation\'s IANA time zone, for off-hours (default UTC)')
      .option('--settings <file>', 'thresholds as PUT /api/v1/findings/settings takes them (default: the documented defaults)')
      .action(ctx.action((o: EvaluateFlags) => findingsEvaluateCommand(o)));
  },
};
