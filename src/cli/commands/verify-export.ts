import { readFile } from 'node:fs/promises';
import { isZip, verifyExportZip } from '../../services/export-verify.ts';
import type { CliCommand } from '../command.ts';
import { out } from '../output.ts';

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

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.argument('<file>')
      .option('--public-key <file>', 'PEM or the JSON of /api/integrity/public-key (default: this installation\'s key)')
      .action(ctx.action(async (file: string, o: { publicKey?: string }) => {
        // With a key given the check is offline: no database at all.
        if (o.publicKey) return verifyExportCommand(file, o, async () => []);
        return ctx.withRuntime({ migrate: false }, (rt) => verifyExportCommand(file, o, async () => rt.services.integrity.trustedKeys()));
      }));
  },
};
