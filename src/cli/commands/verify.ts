import { readFileSync } from 'node:fs';
import type { Runtime } from '../../services/runtime.ts';
import type { VerifyResult } from '../../services/audit-service.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out } from '../output.ts';

export interface VerifyFlags { org?: string; json?: boolean; since?: string; heads?: string[]; publicKey?: string }

/** At most this many breaks are printed an organisation; `--json` has them all. */
const PRINTED = 50;

function describe(name: string, r: VerifyResult, since: number | undefined): string[] {
  if (r.ok) {
    const against = r.signedHead ? `, matches the head signed at ${new Date(r.signedHead.signedAt).toISOString()} (entry ${r.signedHead.seq})`
      : ', no signed head yet';
    const from = r.fromSeq > 0 ? ` after entry ${r.fromSeq}`
      : since ? ` (no signed head at or before entry ${since}: checked from the start)` : '';
    return [`${name}: chain intact, ${r.entries} entries${from}, head ${r.lastSeq} ${r.lastHash}${against}`];
  }
  const total = r.breaks.length + r.moreBreaks;
  const lines = [`${name}: CHAIN BROKEN, ${total} ${total === 1 ? 'problem' : 'problems'}:`];
  for (const b of r.breaks.slice(0, PRINTED)) lines.push(`  entry ${b.seq}${b.id ? ` (id ${b.id})` : ''}: ${b.reason}`);
  if (total > PRINTED) lines.push(`  ... and ${total - PRINTED} more (--json lists up to 1,000)`);
  return lines;
}

/**
 * `auditrail verify [--org <id>] [--since <seq>] [--heads <file>]... [--public-key <file>]`:
 * exit 0 only when every chain checked is intact and matches every signed head found.
 */
export async function verifyCommand(rt: Runtime, opts: VerifyFlags) {
  const since = opts.since === undefined ? undefined : Number(opts.since);
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) throw new CliError('--since must be a sequence number', 2);
  if (opts.publicKey) {
    const text = readFileSync(opts.publicKey, 'utf8');
    rt.services.integrity.trustPublicKey(text.trim().startsWith('{') ? (JSON.parse(text) as { public_key: string }).public_key : text);
  }
  const orgs = (await rt.services.directory.listOrgs()).filter((o) => !opts.org || o.id === opts.org);
  if (opts.org && orgs.length === 0) {
    out(`no organisation ${opts.org}`);
    return 2;
  }
  let ok = true;
  for (const org of orgs) {
    const r = await rt.services.audit.verifyChain(org.id, { since, headsFiles: opts.heads ?? [] });
    ok &&= r.ok;
    if (opts.json) out(JSON.stringify(r));
    else for (const line of describe(`${org.name} (${org.id})`, r, since)) out(line);
  }
  return ok ? 0 : 1;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--org <id>', 'organisation id (default: all)')
      .option('--since <seq>', 'check only the entries after the newest signed head at or before this sequence number')
      .option('--heads <file>', 'a heads log kept elsewhere to check against as well (repeatable)', (v: string, a: string[]) => [...a, v], [])
      .option('--public-key <file>', 'trust heads and checkpoints signed by this key as well (PEM or the JSON of /api/integrity/public-key)')
      .option('--json', 'one JSON object per organisation')
      // Reads the chain (and records the head it checked): never migrates, refuses a schema behind.
      .action(ctx.action((o: VerifyFlags) => ctx.withRuntime({ migrate: false }, (rt) => verifyCommand(rt, o))));
  },
};
