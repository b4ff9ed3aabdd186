import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import type { Runtime } from '../../services/runtime.ts';
import { isZip, verifyExportCsv, verifyExportZip } from '../../services/export-verify.ts';
import { actingUser } from '../directory-lookup.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out, say } from '../output.ts';

/**
 * `auditrail export`: schedules an export as a user (default: the first Administrator), shows
 * its progress, downloads the file and verifies it. When no worker picks the job up (no server
 * running), `startWorker` runs one here.
 */
export async function exportCommand(rt: Runtime, opts: { org?: string; user?: string; criteria?: string; out?: string },
  startWorker: () => { stop: () => Promise<void> }) {
  const { org, user, actor } = await actingUser(rt, opts);
  let body: unknown;
  if (opts.criteria) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(opts.criteria, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read ${opts.criteria}: ${(e as Error).message}`);
    }
    // Three shapes: the whole request body, one export object {"criteria": {...}}, or the criteria alone.
    body = parsed && typeof parsed === 'object' && 'audit_log_export' in parsed ? parsed
      : parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length === 1 && 'criteria' in parsed
        ? { audit_log_export: [parsed] } : { audit_log_export: [{ criteria: parsed }] };
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
  let v;
  if (await isZip(target)) {
    v = await verifyExportZip(target, rt.services.integrity.trustedKeys());
  } else {
    // A CSV carries no manifest inside: it is saved beside it, for verify-export later.
    const manifest = Buffer.from(JSON.stringify(await rt.services.exports.manifest(actor, job.id), null, 2));
    const manifestPath = target.replace(/\.csv$/, '') + '.manifest.json';
    await writeFile(manifestPath, manifest);
    say(`manifest: ${manifestPath}`);
    v = await verifyExportCsv(target, manifest, rt.services.integrity.trustedKeys());
  }
  if (!v.ok) throw new CliError(`verification FAILED: ${v.problems.join('; ')}`);
  say(`verified: manifest signature good, ${v.files.length} file${v.files.length === 1 ? '' : 's'}, ${v.entries} entries`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--criteria <file.json>', 'criteria as in the Export Audit Log API: the criteria, {"criteria": ...}, or the whole request body')
      .option('--out <dir>', 'where to write the file (default: current directory)')
      .option('--user <email>', 'export as this user (default: the first Administrator)').option('--org <id>')
      .action(ctx.action((o: { org?: string; user?: string; criteria?: string; out?: string }) =>
        ctx.withRuntime({ migrate: true }, async (rt) => exportCommand(rt, o, await ctx.workerStarter(rt)))));
  },
};
