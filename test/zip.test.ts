import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ZipWriter } from '../src/services/zip.ts';
import { unzip } from './helpers.ts';

/** Collects what the writer produces, through a slow sink, so backpressure is exercised. */
function sink(highWaterMark = 16 * 1024) {
  const chunks: Buffer[] = [];
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  const done = new Promise<Buffer>((resolve, reject) => {
    out.on('finish', () => resolve(Buffer.concat(chunks)));
    out.on('error', reject);
  });
  return { out, done };
}

const mtime = new Date('2026-03-04T05:06:08Z');
const csv = (rows: number) => Buffer.from(Array.from({ length: rows }, (_, i) => `${i},Ünïcode “row” ${i % 97},${'x'.repeat(i % 50)}\r\n`).join(''));

async function build(entries: [string, Buffer][], chunk = 10_000) {
  const { out, done } = sink();
  const zip = new ZipWriter(out);
  for (const [name, data] of entries) {
    const e = await zip.entry(name, mtime, 6);
    for (let i = 0; i < data.length; i += chunk) await e.write(data.subarray(i, i + chunk));
    await e.end();
  }
  await zip.finish();
  return done;
}

describe('ZipWriter', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auditrail-zip-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const entries: [string, Buffer][] = [
    ['AuditLog_001.csv', csv(50_000)],
    ['AuditLog_002.csv', randomBytes(300_000)], // incompressible: deflate's stored blocks
    ['empty.csv', Buffer.alloc(0)],
    ['Überweisungen – 2026.json', Buffer.from('{"a": 1}\n')],
  ];

  it('writes archives other readers open, with every entry intact', async () => {
    const zipped = await build(entries);
    const files = await unzip(zipped);
    expect([...files.keys()]).toEqual(entries.map(([n]) => n));
    for (const [name, data] of entries) expect(files.get(name)!.equals(data)).toBe(true);

    // Info-ZIP's unzip checks every CRC and size; Python's zipfile reads names and times.
    const file = path.join(tmp, 'a.zip');
    writeFileSync(file, zipped);
    const test = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(test.error).toBeUndefined();
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('No errors detected');
    const py = spawnSync('python3', ['-c', `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist(): print(i.filename, i.date_time, i.file_size, i.compress_type)
`, file], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const lines = py.stdout.trim().split('\n');
    expect(lines[0]).toBe(`AuditLog_001.csv (2026, 3, 4, 5, 6, 8) ${entries[0][1].length} 8`);
    expect(lines[3]).toContain('Überweisungen – 2026.json');
  });

  it('gives the same bytes for the same entries, however they are chunked', async () => {
    const a = await build(entries, 10_000);
    const b = await build(entries, 65_536);
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBeLessThan(entries[0][1].length); // the CSV was compressed
  });

  it('refuses to start an entry while another is open, and to finish with one open', async () => {
    const zip = new ZipWriter(new PassThrough().resume());
    await zip.entry('a', mtime);
    await expect(zip.entry('b', mtime)).rejects.toThrow(/still open/);
    await expect(zip.finish()).rejects.toThrow(/still open/);
  });
});
