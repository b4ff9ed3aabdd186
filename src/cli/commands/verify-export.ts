import { readFile } from 'node:fs/promises';
import { isZip, verifyExportCsv, verifyExportZip } from '../../services/export-verify.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out } from '../output.ts';

type Keys = { key_id: string; public_key: string }[];

/** The keys /api/integrity/public-key answers (also the shape `--public-key` may hold). */
function keysOf(value: unknown): Keys | null {
  const parsed = value as { key_id?: string; public_key?: string; keys?: Keys } | null;
  if (parsed?.keys) return parsed.keys;
  if (parsed?.public_key && parsed.key_id) return [{ key_id: parsed.key_id, public_key: parsed.public_key }];
  return null;
}

/** The installation's public keys from a server's `/api/integrity/public-key` (no token needed). */
async function keysFromServer(server: string): Promise<Keys> {
  let url: URL;
  try {
    url = new URL('/api/integrity/public-key', server);
  } catch {
    throw new CliError(`--server must be a URL such as http://127.0.0.1:4000, not ${server}`, 2);
  }
  const res = await fetch(url).catch((e: Error) => { throw new CliError(`cannot reach ${url.origin}: ${e.message}`, 2); });
  const keys = res.ok ? keysOf(await res.json().catch(() => null)) : null;
  if (!keys) throw new CliError(`${url} did not answer with public keys (HTTP ${res.status})`, 2);
  return keys;
}

/**
 * `auditrail verify-export <file>`: checks an export ZIP's signed manifest offline, against the
 * key given (`--public-key`) or fetched from the server that signed it (`--server`). It opens no
 * database and creates nothing: a verifier must not need, or change, the installation it checks.
 */
export async function verifyExportCommand(file: string, opts: { publicKey?: string; server?: string; manifest?: string }) {
  const zip = await isZip(file);
  // A CSV's manifest is its own file: `auditrail export` saves it as <name>.manifest.json.
  const manifestFile = zip ? null : opts.manifest ?? file.replace(/\.csv$/i, '') + '.manifest.json';
  const manifestJson = manifestFile ? await readFile(manifestFile).catch(() => null) : null;
  if (!zip && !manifestJson) {
    throw new CliError(`${file}: a CSV export is checked against its manifest, and ${manifestFile} cannot be read: `
      + 'save it from GET /crm/v8/settings/audit_log_export/{id}/manifest, or pass --manifest <file>', 2);
  }
  let keys: Keys;
  if (opts.publicKey) {
    const text = await readFile(opts.publicKey, 'utf8').catch((e: Error) => { throw new CliError(`cannot read ${opts.publicKey}: ${e.message}`, 2); });
    let parsed = null;
    try { parsed = JSON.parse(text); } catch { parsed = null; }
    keys = keysOf(parsed) ?? [{ key_id: '*', public_key: text }];
  } else if (opts.server) {
    keys = await keysFromServer(opts.server);
  } else {
    throw new CliError('which key signed it? Pass --public-key <file> (a PEM, or the JSON of /api/integrity/public-key) '
      + 'or --server <url> (the auditrail server that made the export)', 2);
  }
  if (keys.length === 1 && keys[0].key_id === '*') {
    // A bare PEM: trust it for whatever key id the manifest names.
    const probe = zip ? await verifyExportZip(file, []) : await verifyExportCsv(file, manifestJson!, []);
    const id = (probe.manifest?.key_id as string | undefined) ?? '';
    keys = [{ key_id: id, public_key: keys[0].public_key }];
  }
  const v = zip ? await verifyExportZip(file, keys) : await verifyExportCsv(file, manifestJson!, keys);
  if (v.ok) {
    out(`${file}: OK: signature verified, ${v.files.length} ${v.files.length === 1 ? 'file' : 'files'}, ${v.entries} entries, sequence ${v.manifest?.first_seq}..${v.manifest?.last_seq}`);
    return 0;
  }
  out(`${file}: FAILED`);
  for (const p of v.problems) out(`  ${p}`);
  return 1;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.argument('<file>')
      .option('--public-key <file>', 'a PEM, or the JSON of /api/integrity/public-key')
      .option('--server <url>', 'fetch the public key from this auditrail server (/api/integrity/public-key)')
      .option('--manifest <file>', 'a CSV export\'s manifest (default: <file without .csv>.manifest.json)')
      .action(ctx.action((file: string, o: { publicKey?: string; server?: string; manifest?: string }) => verifyExportCommand(file, o)));
  },
};
