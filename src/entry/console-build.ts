import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's web/ folder: the console's sources, its Vite config and web/dist. */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** What the console's build is made from: a change to any of these makes web/dist stale. */
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'postcss.config.js'];

export type ConsoleBuildState =
  | { state: 'fresh' }
  | { state: 'missing' }
  | { state: 'stale'; newer: string }
  /** web/dist is there but the sources are not (an install without them): it is what there is. */
  | { state: 'no-sources' };

export interface ConsoleBuildOptions {
  /** The console's folder (default: this repository's web/). */
  webDir?: string;
  /** Where progress goes (default: nowhere). */
  log?: (line: string) => void;
}

/** Raised when a build is needed and Vite cannot be loaded (a production install omits devDependencies). */
export class ViteMissingError extends Error {
  readonly code = 'VITE_MISSING';
}

function newestFile(p: string): { file: string; mtimeMs: number } | null {
  if (!existsSync(p)) return null;
  const st = statSync(p);
  if (!st.isDirectory()) return { file: p, mtimeMs: st.mtimeMs };
  let newest: { file: string; mtimeMs: number } | null = null;
  for (const entry of readdirSync(p)) {
    const n = newestFile(path.join(p, entry));
    if (n && (!newest || n.mtimeMs > newest.mtimeMs)) newest = n;
  }
  return newest;
}

/** Whether web/dist is built, and not older than any file it is built from. */
export function consoleBuildState(webDir = WEB_DIR): ConsoleBuildState {
  const index = path.join(webDir, 'dist', 'index.html');
  const sources = SOURCES.map((s) => newestFile(path.join(webDir, s))).filter((n) => n !== null);
  if (!existsSync(index)) return { state: 'missing' };
  if (sources.length === 0) return { state: 'no-sources' };
  const built = statSync(index).mtimeMs;
  const newest = sources.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return newest.mtimeMs > built ? { state: 'stale', newer: path.relative(webDir, newest.file) } : { state: 'fresh' };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One build at a time per web/ folder across processes: the test files run in parallel forks and
 * `auditrail serve` may start beside them, and two Vite builds into one folder would each empty
 * the other's output. A lock left by a process that died is taken over.
 */
async function withBuildLock<T>(webDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(tmpdir(), `auditrail-console-build-${createHash('sha256').update(path.resolve(webDir)).digest('hex').slice(0, 16)}.lock`);
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      // An empty file is a lock being written this instant; a dead holder's lock is stale.
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Builds the console into web/dist with Vite when the build is missing or older than its sources;
 * resolves to whether it built. The new build is written beside web/dist and moved into place,
 * so a server already serving web/dist never finds it half empty. Throws ViteMissingError when a
 * build is needed and Vite is not installed.
 */
export async function ensureConsoleBuilt(opts: ConsoleBuildOptions = {}): Promise<boolean> {
  const webDir = opts.webDir ?? WEB_DIR;
  const log = opts.log ?? (() => {});
  const before = consoleBuildState(webDir);
  if (before.state === 'fresh' || before.state === 'no-sources') return false;
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (e) {
    throw new ViteMissingError(`vite cannot be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  return withBuildLock(webDir, async () => {
    // Another process may have built it while this one waited for the lock.
    const state = consoleBuildState(webDir);
    if (state.state === 'fresh') return false;
    log(state.state === 'missing' ? 'building the console (web/dist is missing)...'
      : state.state === 'stale' ? `building the console (web/${state.newer} is newer than web/dist)...` : 'building the console...');
    const dist = path.join(webDir, 'dist');
    const next = path.join(webDir, `.dist-${process.pid}-${randomBytes(4).toString('hex')}`);
    const old = `${next}-old`;
    // A production build whatever process builds it: from the test runner (NODE_ENV=test) Vite and
    // its React plugin made React's development build, several times slower (bench:console).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await vite.build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn', mode: 'production', build: { outDir: next, emptyOutDir: true } });
      if (existsSync(dist)) renameSync(dist, old);
      renameSync(next, dist);
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
      rmSync(next, { recursive: true, force: true });
      rmSync(old, { recursive: true, force: true });
    }
    log('console built into web/dist');
    return true;
  });
}
