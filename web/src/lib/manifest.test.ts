import { describe, expect, it } from 'vitest';
import { canonicalManifest, countCsvRecords, readZipDirectory, supportsEd25519, verifyEd25519, verifyExportZip } from './manifest.ts';

const enc = new TextEncoder();

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** A ZIP as auditrail writes it: deflated entries, sizes in the central directory. */
async function zip(files: [string, string][]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const nameBytes = enc.encode(name);
    const raw = enc.encode(text);
    const data = await deflateRaw(raw);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, 8, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const c = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, 8, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, raw.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    c.set(nameBytes, 46);
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const a of all) { out.set(a, p); p += a.length; }
  return out;
}

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
const b64 = (b: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(b)));

async function keyPair() {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']) as CryptoKeyPair;
  const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
  const pem = `-----BEGIN PUBLIC KEY-----\n${b64(spki)}\n-----END PUBLIC KEY-----\n`;
  return { pair, pem };
}

async function signedExport(parts: [string, string][], tamper?: (m: Record<string, unknown>) => void) {
  const { pair, pem } = await keyPair();
  const files = [];
  for (const [name, text] of parts) {
    files.push({ name, sha256: hex(await crypto.subtle.digest('SHA-256', enc.encode(text))), entries: countCsvRecords(enc.encode(text)), first_seq: 1, last_seq: 2 });
  }
  const manifest: Record<string, unknown> = { format: 'auditrail-export-manifest/1', job_id: '1', files,
    entry_count: files.reduce((n, f) => n + f.entries, 0), truncated: false, chain_hash_at_last: null, algorithm: 'Ed25519', key_id: 'k1' };
  manifest.signature = b64(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, enc.encode(canonicalManifest(manifest))));
  tamper?.(manifest);
  const bytes = await zip([...parts, ['manifest.json', JSON.stringify(manifest, null, 2)]]);
  return { bytes, keys: [{ key_id: 'k1', public_key: pem }] };
}

const CSV = 'Id,Action\n1,added\n2,"multi\nline"\n';

describe('manifest', () => {
  it('sorts keys at every depth and leaves the signature out', () => {
    expect(canonicalManifest({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, signature: 'x' })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('counts CSV records, not lines inside quoted cells', () => {
    expect(countCsvRecords(enc.encode(CSV))).toBe(2);
    expect(countCsvRecords(enc.encode('Id\n'))).toBe(0);
    expect(countCsvRecords(new Uint8Array())).toBe(0);
  });

  it('reads a ZIP directory', async () => {
    const z = await zip([['a.csv', 'x'], ['b.csv', 'yy']]);
    expect(readZipDirectory(z).map((e) => [e.name, e.size])).toEqual([['a.csv', 1], ['b.csv', 2]]);
    expect(() => readZipDirectory(enc.encode('not a zip at all, just text'))).toThrow(/not a ZIP/);
  });

  it('verifies an Ed25519 signature and refuses another text', async () => {
    expect(await supportsEd25519()).toBe(true);
    const { pair, pem } = await keyPair();
    const sig = b64(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, enc.encode('hello')));
    expect(await verifyEd25519('hello', sig, pem)).toBe(true);
    expect(await verifyEd25519('hellO', sig, pem)).toBe(false);
  });

  it('verifies a signed export', async () => {
    const { bytes, keys } = await signedExport([['AuditLog_001.csv', CSV], ['AuditLog_002.csv', 'Id,Action\n3,deleted\n']]);
    const r = await verifyExportZip(bytes, keys);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, signatureOk: true, keyId: 'k1', entries: 3 });
  });

  it('finds an altered manifest, an altered part, an unknown key and an extra file', async () => {
    const altered = await signedExport([['AuditLog_001.csv', CSV]], (m) => { m.entry_count = 5; });
    const r1 = await verifyExportZip(altered.bytes, altered.keys);
    expect(r1.ok).toBe(false);
    expect(r1.signatureOk).toBe(false);
    expect(r1.problems.join(' ')).toMatch(/signature does not verify/);

    const { bytes, keys } = await signedExport([['AuditLog_001.csv', CSV]]);
    expect((await verifyExportZip(bytes, [{ key_id: 'other', public_key: keys[0].public_key }])).problems.join(' ')).toMatch(/no public key with id k1/);

    const entries = readZipDirectory(bytes);
    const manifest = new TextDecoder().decode(await (await import('./manifest.ts')).entryContent(bytes, entries.find((e) => e.name === 'manifest.json')!));
    const swapped = await zip([['AuditLog_001.csv', CSV.replace('added', 'xdded')], ['extra.csv', 'Id\n'], ['manifest.json', manifest]]);
    const r2 = await verifyExportZip(swapped, keys);
    expect(r2.signatureOk).toBe(true);
    expect(r2.ok).toBe(false);
    expect(r2.problems).toEqual(expect.arrayContaining([expect.stringMatching(/AuditLog_001.csv: SHA-256 differs/), expect.stringMatching(/extra.csv is not listed/)]));
  });
});
