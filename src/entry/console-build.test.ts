import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleBuildState, ensureConsoleBuilt } from './console-build.ts';

/** A console in miniature: one page, one module, a Vite config that needs nothing installed beside it. */
function miniConsole() {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-build-'));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>mini</title><script type="module" src="/src/main.js"></script>');
  writeFileSync(path.join(dir, 'src', 'main.js'), 'document.title = "built";\n');
  writeFileSync(path.join(dir, 'vite.config.ts'), `export default { root: ${JSON.stringify(dir)}, build: { outDir: 'dist' } };\n`);
  return dir;
}

describe('building the console when it is missing or stale', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('builds once when missing, even when asked twice at the same time; then only when a source is newer', async () => {
    const dir = miniConsole();
    dirs.push(dir);
    expect(consoleBuildState(dir)).toEqual({ state: 'missing' });
    const built = await Promise.all([ensureConsoleBuilt({ webDir: dir }), ensureConsoleBuilt({ webDir: dir })]);
    expect(built.sort()).toEqual([false, true]);
    expect(readFileSync(path.join(dir, 'dist', 'index.html'), 'utf8')).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    expect(consoleBuildState(dir)).toEqual({ state: 'fresh' });
    expect(await ensureConsoleBuilt({ webDir: dir })).toBe(false);

    // The build older than a source, as after an edit or a pull.
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, 'dist', 'index.html'), earlier, earlier);
    const now = new Date();
    utimesSync(path.join(dir, 'src', 'main.js'), now, now);
    expect(consoleBuildState(dir)).toEqual({ state: 'stale', newer: path.join('src', 'main.js') });
    const lines: string[] = [];
    expect(await ensureConsoleBuilt({ webDir: dir, log: (l) => lines.push(l) })).toBe(true);
    expect(lines[0]).toBe('building the console (web/src/main.js is newer than web/dist)...');
    expect(consoleBuildState(dir)).toEqual({ state: 'fresh' });
    // The build was written beside dist and moved in: nothing of it is left behind.
    expect(readdirSync(dir).sort()).toEqual(['dist', 'index.html', 'src', 'vite.config.ts']);
  });

  it('leaves a build without its sources alone (an install that ships web/dist only)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'console-build-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html>');
    expect(consoleBuildState(dir)).toEqual({ state: 'no-sources' });
  });
});
