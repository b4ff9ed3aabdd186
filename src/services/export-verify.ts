import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import yauzl from 'yauzl';
import { canonicalManifest } from './export-service.ts';

export interface ExportVerification {
  ok: boolean;
  entries: number;
  files: { name: string; entries: number; sha256: string; ok: boolean }[];
  problems: string[];
  manifest: Record<string, unknown> | null;
}

/** Counts CSV records (excluding the header): line ends outside quoted cells. */
function countRecords(buf: Buffer): number {
  let quoted = false;
  let lines = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted) lines += 1;
  }
  return Math.max(0, lines - 1);
}

/**
 * Checks an export ZIP offline: the manifest's Ed25519 signature against the given public key(s)
 * (PEM, matched by key id), and every listed file's SHA-256 and entry count; no file may be
 * missing or added.
 */
export async function verifyExportZip(file: string, publicKeys: { key_id: string; public_key: string }[]): Promise<ExportVerification> {
  const problems: string[] = [];
  const contents = new Map<string, Buffer>();
  const zip = await yauzl.openPromise(file);
  try {
    for await (const entry of zip.eachEntry()) {
      if (contents.has(entry.fileName)) problems.push(`the archive holds ${entry.fileName} twice`);
      const stream = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      contents.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  const raw = contents.get('manifest.json');
  if (!raw) return { ok: false, entries: 0, files: [], problems: [...problems, 'the archive has no manifest.json'], manifest: null };
  return checkAgainstManifest(raw, contents, publicKeys, problems, true);
}

/**
 * Checks a CSV export offline against its manifest (the JSON of GET .../audit_log_export/{id}/manifest,
 * which `auditrail export` saves beside the file): the signature, the file's SHA-256 and entry count.
 */
export async function verifyExportCsv(file: string, manifestJson: Buffer, publicKeys: { key_id: string; public_key: string }[]): Promise<ExportVerification> {
  const buf = await readFile(file);
  let listed: string | undefined;
  try {
    listed = (JSON.parse(manifestJson.toString('utf8')) as { files?: { name?: string }[] }).files?.[0]?.name;
  } catch {
    return { ok: false, entries: 0, files: [], problems: ['the manifest is not JSON'], manifest: null };
  }
  // The file's own name may differ (AuditLog-<job>.csv on disk): it stands for the one file listed.
  return checkAgainstManifest(manifestJson, new Map([[listed ?? 'AuditLog.csv', buf]]), publicKeys, [], false);
}

type Manifest = Record<string, unknown> & { files: { name: string; sha256: string; entries: number }[]; entry_count: number; key_id: string; signature: string };

function checkAgainstManifest(raw: Buffer, contents: Map<string, Buffer>, publicKeys: { key_id: string; public_key: string }[],
  problems: string[], archive: boolean): ExportVerification {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(raw.toString('utf8')) as Manifest;
  } catch {
    return { ok: false, entries: 0, files: [], problems: [...problems, 'the manifest is not JSON'], manifest: null };
  }
  if (!Array.isArray(manifest.files)) return { ok: false, entries: 0, files: [], problems: [...problems, 'the manifest lists no files'], manifest };
  const key = publicKeys.find((k) => k.key_id === manifest.key_id);
  if (!key) problems.push(`no public key with id ${manifest.key_id}`);
  else {
    let good = false;
    try {
      good = verify(null, Buffer.from(canonicalManifest(manifest)), createPublicKey(key.public_key), Buffer.from(manifest.signature, 'base64'));
    } catch {
      good = false;
    }
    if (!good) problems.push('the manifest signature does not verify: the manifest was altered or signed by another key');
  }
  const files = manifest.files.map((f) => {
    const buf = contents.get(f.name);
    if (!buf) {
      problems.push(`${f.name} is listed in the manifest but missing`);
      return { name: f.name, entries: 0, sha256: '', ok: false };
    }
    const sha256 = createHash('sha256').update(buf).digest('hex');
    const entries = countRecords(buf);
    const ok = sha256 === f.sha256 && entries === f.entries;
    if (sha256 !== f.sha256) problems.push(`${f.name}: SHA-256 differs from the manifest (the file was altered)`);
    else if (entries !== f.entries) problems.push(`${f.name}: ${entries} entries, the manifest says ${f.entries}`);
    return { name: f.name, entries, sha256, ok };
  });
  if (!archive && manifest.files.length !== 1) problems.push(`the manifest lists ${manifest.files.length} files, this is one CSV`);
  for (const name of contents.keys()) {
    if (name !== 'manifest.json' && !manifest.files.some((f) => f.name === name)) problems.push(`${name} is not listed in the manifest`);
  }
  const entries = files.reduce((n, f) => n + f.entries, 0);
  if (entries !== manifest.entry_count) problems.push(`the files hold ${entries} entries, the manifest says ${manifest.entry_count}`);
  return { ok: problems.length === 0, entries, files, problems, manifest };
}

export async function isZip(file: string): Promise<boolean> {
  const head = (await readFile(file)).subarray(0, 4);
  return head.length === 4 && head.readUInt32LE(0) === 0x04034b50;
}
