import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import type { Runtime } from '../services/runtime.ts';
import { systemActor } from '../services/context.ts';
import { isZip, verifyExportZip } from '../services/export-verify.ts';
import { resolveOrg } from './org-option.ts';
import { CliError, out, say } from './output.ts';

/**
 * `auditrail export`: schedules an export as a user (default: the first Administrator), shows
 * its progress, downloads the file and verifies it. When no worker picks the job up (no server
 * running), `startWorker` runs one here.
 */
export async function exportCommand(rt: Runtime, opts: { org?: string; user?: string; criteria?: string; out?: string },
  startWorker: () => { stop: () => Promise<void> }) {
  const org = await resolveOrg(rt, opts.org);
  const users = await rt.services.directory.listEveryUser(systemActor(org.id));
  const admins = await rt.services.directory.listUsers(systemActor(org.id), 'ActiveConfirmedAdmins');
  const user = opts.user ? users.find((u) => u.email === opts.user!.toLowerCase() && u.status === 'active') : admins[0];
  if (!user) throw new CliError(`no active user ${opts.user ?? 'with the Administrator profile'}`);
  const actor = await rt.services.directory.actorForUser(org.id, user.id, { source: 'api', userAgent: 'auditrail-cli' });
  let body: unknown;
  if (opts.criteria) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(opts.criteria, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read ${opts.criteria}: ${(e as Error).message}`);
    }
    body = parsed && typeof parsed === 'object' && 'audit_log_export' in parsed ? parsed : { audit_log_export: [{ criteria: parsed }] };
  }
  const job = await rt.services.exports.create(actor, body);
  say(`export ${job.id} scheduled for ${user.email}`);
  const bar = new cliProgress.SingleBar({ format: 'exporting [{bar}] {percentage}% | {value}/{total} entries', stream: process.stderr,
    noTTYOutput: false }, cliProgress.Presets.shades_classic);
  let worker: { stop: () => Promise<void> } | null = null;
  const started = Date.now();
  let barStarted = false;
  for (;;) {
    const row = await rt.services.exports.get(actor, job.id);
    const progress = await rt.store.repos.jobs.orgJob(actor.orgId, job.id, ['audit_log_export']);
    if (progress?.progress_total !== null && progress?.progress_total !== undefined) {
      if (!barStarted) { bar.start(Number(progress.progress_total), 0); barStarted = true; }
      bar.update(Number(progress.progress_done));
    }
    if (row.status === 'Finished') break;
    if (row.status === 'Failed' || progress?.status === 'failed') {
      if (barStarted) bar.stop();
      await worker?.stop();
      throw new CliError(`export failed: ${progress?.error ?? 'unknown error'}`);
    }
    if (!worker && progress?.status === 'queued' && Date.now() - started > 1500) worker = startWorker();
    await new Promise((r) => setTimeout(r, 250));
  }
  if (barStarted) bar.stop();
  await worker?.stop();
  const done = await rt.services.exports.get(actor, job.id);
  const name = (JSON.parse(done.files!) as { name: string }[])[0].name;
  const file = await rt.services.exports.download(actor, org.zgid, job.id, name);
  const dir = path.resolve(opts.out ?? '.');
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, `AuditLog-${job.id}${path.extname(name)}`);
  await pipeline(file.stream, createWriteStream(target));
  out(target);
  say(`${done.entry_count} entries${done.truncated ? ' (cut at the 1,000,000-entry cap)' : ''}, ${file.size} bytes`);
  if (await isZip(target)) {
    const v = await verifyExportZip(target, rt.services.integrity.trustedKeys());
    if (!v.ok) throw new CliError(`verification FAILED: ${v.problems.join('; ')}`);
    say(`verified: manifest signature good, ${v.files.length} files, ${v.entries} entries`);
  }
  return 0;
}

/** `auditrail verify-export <file>`: offline check of an export ZIP's signed manifest. */
export async function verifyExportCommand(file: string, opts: { publicKey?: string }, keysFromStore: () => Promise<{ key_id: string; public_key: string }[]>) {
  if (!(await isZip(file))) {
    out(`${file}: not a ZIP. Only ZIP exports (more than 100,000 entries) carry a signed manifest.`);
    return 2;
  }
  let keys: { key_id: string; public_key: string }[];
  if (opts.publicKey) {
    const text = await readFile(opts.publicKey, 'utf8');
    let parsed: { key_id?: string; public_key?: string; keys?: { key_id: string; public_key: string }[] } | null = null;
    try { parsed = JSON.parse(text); } catch { parsed = null; }
    if (parsed?.keys) keys = parsed.keys;
    else if (parsed?.public_key && parsed.key_id) keys = [{ key_id: parsed.key_id, public_key: parsed.public_key }];
    else {
      const manifestKey = '*';
      keys = [{ key_id: manifestKey, public_key: text }];
    }
  } else keys = await keysFromStore();
  if (keys.length === 1 && keys[0].key_id === '*') {
    // A bare PEM: trust it for whatever key id the manifest names.
    const probe = await verifyExportZip(file, []);
    const id = (probe.manifest?.key_id as string | undefined) ?? '';
    keys = [{ key_id: id, public_key: keys[0].public_key }];
  }
  const v = await verifyExportZip(file, keys);
  if (v.ok) {
    out(`${file}: OK: signature verified, ${v.files.length} files, ${v.entries} entries, sequence ${v.manifest?.first_seq}..${v.manifest?.last_seq}`);
    return 0;
  }
  out(`${file}: FAILED`);
  for (const p of v.problems) out(`  ${p}`);
  return 1;
}
