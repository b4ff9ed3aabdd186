/**
 * Checks a signed export in the browser, as `auditrail verify-export` does offline
 * (src/services/export-verify.ts): an export of more than 100,000 entries is a ZIP of CSV parts
 * with a `manifest.json` that lists each part's SHA-256 and entry count and is signed with the
 * installation's Ed25519 key over its canonical JSON (sorted keys, without `signature`).
 * WebCrypto does the hashing and the signature check; nothing here talks to the server.
 */

export interface ZipEntry { name: string; method: number; compressedSize: number; size: number; localOffset: number }

export interface ExportManifest {
  format?: string;
  job_id?: string;
  files: { name: string; sha256: string; entries: number }[];
  entry_count: number;
  key_id: string;
  algorithm?: string;
  signature: string;
  [key: string]: unknown;
}

export interface ExportVerification {
  ok: boolean;
  /** Whether the manifest's signature verified with the key it names. */
  signatureOk: boolean;
  keyId: string | null;
  entries: number;
  files: { name: string; entries: number; ok: boolean }[];
  /** What is wrong, in words; empty when ok. */
  problems: string[];
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The entries of a ZIP archive, from its central directory (plain ZIP, as auditrail writes it). */
export function readZipDirectory(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) { end = i; break; }
  }
  if (end < 0) throw new Error('the file is not a ZIP archive');
  const count = view.getUint16(end + 10, true);
  let p = view.getUint32(end + 16, true);
  const names = new TextDecoder();
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) throw new Error('the ZIP archive\'s directory is damaged');
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    out.push({
      name: names.decode(bytes.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

/** The stored (possibly deflated) bytes of one entry. */
export function entryBytes(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(e.localOffset, true) !== LOCAL) throw new Error(`the ZIP entry ${e.name} is damaged`);
  const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
  if (start + e.compressedSize > bytes.length) throw new Error(`the ZIP entry ${e.name} is cut short`);
  return bytes.subarray(start, start + e.compressedSize);
}

/** Raw-deflate decompression with the platform's DecompressionStream. */
export async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** An entry's content, decompressed. */
export async function entryContent(bytes: Uint8Array, e: ZipEntry): Promise<Uint8Array> {
  const raw = entryBytes(bytes, e);
  if (e.method === 0) return raw;
  if (e.method === 8) return inflateRaw(raw);
  throw new Error(`the ZIP entry ${e.name} uses an unknown compression method`);
}

/** Canonical JSON (sorted keys) of a manifest without its signature: what the signature covers. */
export function canonicalManifest(manifest: Record<string, unknown>): string {
  const sort = (v: unknown): unknown => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v);
  const { signature: _s, ...rest } = manifest;
  return JSON.stringify(sort(rest));
}

/** CSV records (without the header): line ends outside quoted cells. */
export function countCsvRecords(bytes: Uint8Array): number {
  let quoted = false;
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted) lines += 1;
  }
  return Math.max(0, lines - 1);
}

/** The DER bytes of a PEM block (SPKI for a public key). */
export function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return base64ToBytes(b64);
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether the platform's WebCrypto verifies Ed25519 (recent Chromium, Firefox, Safari, Node). */
export async function supportsEd25519(subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  try {
    // RFC 8032's first test key.
    const probe = pemToDer('MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=');
    await subtle.importKey('spki', probe as BufferSource, { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch {
    return false;
  }
}

/** True when `signature` (base64) is a valid Ed25519 signature of `text` by the PEM public key. */
export async function verifyEd25519(text: string, signature: string, publicKeyPem: string, subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  const key = await subtle.importKey('spki', pemToDer(publicKeyPem) as BufferSource, { name: 'Ed25519' }, false, ['verify']);
  try {
    return await subtle.verify({ name: 'Ed25519' }, key, base64ToBytes(signature) as BufferSource, new TextEncoder().encode(text));
  } catch {
    return false;
  }
}

/**
 * Verifies an export ZIP: the manifest's signature with the key of its key id (from `keys`), each
 * listed file's SHA-256 and entry count, no file missing or added, and the total entry count.
 */
export async function verifyExportZip(zip: Uint8Array, keys: { key_id: string; public_key: string }[],
  subtle: SubtleCrypto = crypto.subtle): Promise<ExportVerification> {
  const problems: string[] = [];
  const entries = readZipDirectory(zip);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) problems.push(`the archive holds ${e.name} twice`);
    byName.set(e.name, e);
  }
  const m = byName.get('manifest.json');
  if (!m) return { ok: false, signatureOk: false, keyId: null, entries: 0, files: [], problems: [...problems, 'the archive has no manifest.json'] };
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await entryContent(zip, m))) as ExportManifest;
  } catch {
    return { ok: false, signatureOk: false, keyId: null, entries: 0, files: [], problems: [...problems, 'manifest.json is not valid JSON'] };
  }
  if (!Array.isArray(manifest.files) || typeof manifest.signature !== 'string') {
    return { ok: false, signatureOk: false, keyId: null, entries: 0, files: [], problems: [...problems, 'manifest.json is incomplete'] };
  }
  return checkFiles(manifest, byName, (e) => entryContent(zip, e), keys, problems, subtle);
}

/**
 * Checks a single-CSV export against its manifest (GET .../audit_log_export/{id}/manifest): the
 * signature, and the file's SHA-256 and entry count.
 */
export async function verifyExportCsv(csv: Uint8Array, manifestJson: string, keys: { key_id: string; public_key: string }[],
  subtle: SubtleCrypto = crypto.subtle): Promise<ExportVerification> {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(manifestJson) as ExportManifest;
  } catch {
    return { ok: false, signatureOk: false, keyId: null, entries: 0, files: [], problems: ['the manifest is not valid JSON'] };
  }
  if (!Array.isArray(manifest.files) || manifest.files.length !== 1 || typeof manifest.signature !== 'string') {
    return { ok: false, signatureOk: false, keyId: null, entries: 0, files: [], problems: ['the manifest does not describe one CSV file'] };
  }
  const only = new Map([[manifest.files[0].name, csv]]);
  return checkFiles(manifest, only, async (c) => c, keys, [], subtle);
}

/** The manifest's signature, then every listed file's SHA-256 and entry count, and nothing unlisted. */
async function checkFiles<E>(manifest: ExportManifest, byName: Map<string, E>, content: (e: E) => Promise<Uint8Array>,
  keys: { key_id: string; public_key: string }[], problems: string[], subtle: SubtleCrypto): Promise<ExportVerification> {
  const key = keys.find((k) => k.key_id === manifest.key_id);
  let signatureOk = false;
  if (!key) problems.push(`no public key with id ${manifest.key_id}`);
  else {
    signatureOk = await verifyEd25519(canonicalManifest(manifest), manifest.signature, key.public_key, subtle);
    if (!signatureOk) problems.push('the manifest signature does not verify: the manifest was altered or signed by another key');
  }
  const files: ExportVerification['files'] = [];
  for (const f of manifest.files) {
    const e = byName.get(f.name);
    if (!e) {
      problems.push(`${f.name} is listed in the manifest but missing`);
      files.push({ name: f.name, entries: 0, ok: false });
      continue;
    }
    const bytes = await content(e);
    const sha256 = toHex(await subtle.digest('SHA-256', bytes as BufferSource));
    const count = countCsvRecords(bytes);
    if (sha256 !== f.sha256) problems.push(`${f.name}: SHA-256 differs from the manifest (the file was altered)`);
    else if (count !== f.entries) problems.push(`${f.name}: ${count} entries, the manifest says ${f.entries}`);
    files.push({ name: f.name, entries: count, ok: sha256 === f.sha256 && count === f.entries });
  }
  for (const name of byName.keys()) {
    if (name !== 'manifest.json' && !manifest.files.some((f) => f.name === name)) problems.push(`${name} is not listed in the manifest`);
  }
  const total = files.reduce((n, f) => n + f.entries, 0);
  if (total !== manifest.entry_count) problems.push(`the files hold ${total} entries, the manifest says ${manifest.entry_count}`);
  return { ok: problems.length === 0, signatureOk, keyId: manifest.key_id, entries: total, files, problems };
}
