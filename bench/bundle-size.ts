/**
 * The console's initial JavaScript, gzipped: the entry script of web/dist/index.html and the
 * modules it preloads (what the browser fetches before the first page can render; each page's own
 * chunk comes after, when it is visited). Target: <= 300 kB (300,000 bytes) gzipped.
 *
 *   node --import tsx bench/bundle-size.ts     (builds the console first when it is missing or stale)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureConsoleBuilt } from '../src/entry/console-build.ts';
import { ROOT, runIfMain } from './common.ts';

export const BUNDLE_TARGET_BYTES = 300_000;
const DIST = path.join(ROOT, 'web', 'dist');

export interface BundleFile { file: string; bytes: number; gzipBytes: number }
export interface BundleSize { files: BundleFile[]; bytes: number; gzipBytes: number }

const attr = (tag: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag)?.slice(2).find((v) => v !== undefined);

/** The scripts index.html loads before anything renders: module scripts with a src, and modulepreload links. */
export function initialScripts(html: string): string[] {
  const out: string[] = [];
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isScript = /^<script/i.test(tag);
    const url = isScript ? attr(tag, 'src') : attr(tag, 'href');
    if (!url) continue;
    if (isScript ? attr(tag, 'type') === 'module' : attr(tag, 'rel')?.split(/\s+/).includes('modulepreload')) out.push(url);
  }
  return [...new Set(out)];
}

/** Sizes of the console's initial JavaScript as built in `dist`, each file gzipped on its own (as a server sends it). */
export function bundleSize(dist = DIST): BundleSize {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = initialScripts(html).map((url) => {
    const body = readFileSync(path.join(dist, new URL(url, 'http://x/').pathname));
    return { file: url, bytes: body.length, gzipBytes: gzipSync(body).length };
  });
  if (files.length === 0) throw new Error(`no module script in ${path.join(dist, 'index.html')}`);
  return { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0) };
}

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;

/** Prints the sizes and the check against the target; never fails on it. */
export function printBundleSize(size: BundleSize, log: (line: string) => void = console.log) {
  log('initial JavaScript (web/dist/index.html: entry script + modulepreload), gzipped with zlib:');
  for (const f of size.files) log(`  ${f.file.padEnd(40)} ${kB(f.bytes).padStart(10)} raw  ${kB(f.gzipBytes).padStart(9)} gzip`);
  const ratio = size.gzipBytes / BUNDLE_TARGET_BYTES;
  log(`  total ${kB(size.gzipBytes)} gzipped (${kB(size.bytes)} raw); target <= ${kB(BUNDLE_TARGET_BYTES)}: ratio ${ratio.toFixed(2)} ${ratio <= 1 ? 'PASS' : 'FAIL'}`);
}

runIfMain(import.meta.url, async () => {
  if (await ensureConsoleBuilt({ log: console.log })) console.log('');
  printBundleSize(bundleSize());
});
