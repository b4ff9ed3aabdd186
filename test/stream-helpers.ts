import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { TestEnv } from './helpers.ts';

/** What the streams' tests share: a JSON-lines receiver, the worker driven to rest, a receiver's continuity check. */

/** A local HTTP receiver of JSON lines; `failNext` makes it answer 503 that many times. */
export async function ndjsonReceiver() {
  const lines: Record<string, unknown>[] = [];
  const requests: { headers: IncomingMessage['headers']; raw: string }[] = [];
  let failNext = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
    req.on('end', () => {
      if (failNext > 0) { failNext -= 1; res.statusCode = 503; res.end('down'); return; }
      requests.push({ headers: req.headers, raw });
      for (const l of raw.split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      res.statusCode = 204; res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, lines, requests,
    failTimes(n: number) { failNext = n; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs the worker until it finds nothing to do, moving the clock past each idle wait and backoff. */
export async function drain(env: TestEnv, worker: { runOnce(): Promise<boolean> }, rounds = 30) {
  for (let i = 0; i < rounds; i += 1) {
    env.advance(2000);
    let ran = 0;
    while (await worker.runOnce()) { ran += 1; if (ran > 50) break; }
  }
}

/**
 * What a receiver checks: chain order, nothing missing between what it got (prev_seq names the
 * entry before), and for a whole-organisation stream the hash chain itself. Duplicates (at least
 * once) are dropped first. Returns the distinct entries in order.
 */
export function checkContinuity(lines: Record<string, unknown>[], wholeOrg: boolean) {
  const seen: Record<string, unknown>[] = [];
  for (const l of lines) {
    const last = seen.at(-1);
    if (last && Number(l.seq) <= Number(last.seq)) continue;
    if (last) {
      expect(l.prev_seq, `entry ${l.seq} follows ${last.seq}`).toBe(last.seq);
      if (wholeOrg) {
        expect(l.seq).toBe(Number(last.seq) + 1);
        expect(l.prev_hash).toBe(last.hash);
      }
    }
    seen.push(l);
  }
  return seen;
}


/** Waits (turns of the event loop, at most about 10 s) until a peer has read what was sent to it; the test's assertions say the rest. */
export async function until(done: () => boolean) {
  for (let i = 0; i < 1000 && !done(); i += 1) await new Promise((r) => setTimeout(r, 10));
}
