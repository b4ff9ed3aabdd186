import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/db.ts';
import { MAX_IN_FLIGHT_BYTES, produceParts, type ProducerMessage, type ProducerWorkerData } from './export-producer.ts';

/**
 * A worker thread of an export (see export-producer.ts): opens its own connection, makes its share
 * of the parts and posts them to the main thread, at most MAX_IN_FLIGHT_BYTES ahead of what it took.
 */
const { store: options, req, share } = workerData as ProducerWorkerData;
const port = parentPort!;
let inFlight = 0;
let wake: (() => void) | null = null;
let entries: number | null = null;
port.on('message', (m: number | { entries: number }) => {
  if (typeof m === 'number') inFlight -= m;
  else entries = m.entries;
  wake?.();
  wake = null;
});

async function main() {
  // The export reads each page once, in order: a small page cache does.
  const store = await openStore({ ...options, migrate: false, scanOnce: true });
  let end: ProducerMessage | null = null;
  try {
    // Started while the main thread counts the entries: wait for the count.
    while (entries === null) await new Promise<void>((resolve) => { wake = resolve; });
    for await (const m of produceParts(store.rows.exportRows, { ...req, entries }, share)) {
      if (m.t === 'end') {
        end = m;
      } else {
        if (m.t === 'chunk') {
          while (inFlight > MAX_IN_FLIGHT_BYTES) await new Promise<void>((resolve) => { wake = resolve; });
          inFlight += m.data.byteLength;
        }
        // A chunk's buffer is its own (partBytes' take): moved, not copied.
        port.postMessage(m, m.t === 'chunk' ? [m.data.buffer as ArrayBuffer] : []);
      }
    }
  } finally {
    await store.close();
  }
  // Only now, with the connection closed: the main thread ends the thread when it has the end.
  port.postMessage(end);
}

// Loaded as CommonJS (src/ts-worker.js): no top-level await. A failure ends the thread with an
// 'error' event the main thread reports.
main().catch((e: unknown) => { throw e; });
