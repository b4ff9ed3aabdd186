import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** The CLI as a user runs it. */
export const BIN = path.resolve('bin/auditrail.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/**
 * Runs `auditrail <args>` in a child process, without blocking the test worker's event loop
 * (vitest talks to it meanwhile). DATABASE_URL is cleared (SQLite under the data directory the
 * args or `env` name); `input` is written to its standard input, which is closed either way.
 */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string | null } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd,
      env: { ...process.env, DATABASE_URL: '', AUDITRAIL_LOG_LEVEL: 'silent', ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.input != null) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** A maker of temporary directories named `auditrail-<prefix>-...`, all removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = mkdtempSync(path.join(os.tmpdir(), `auditrail-${prefix}-`));
    dirs.push(d);
    return d;
  };
}
