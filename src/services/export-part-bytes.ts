import { createHash } from 'node:crypto';
import { once } from 'node:events';
import zlib from 'node:zlib';

/**
 * A part's bytes as the encoders write them: hashed (SHA-256, CRC-32), deflated for a ZIP, and
 * handed out in chunks the producer posts to the main thread.
 */

/** Characters of CSV text in one chunk. */
export const CHUNK = 64 * 1024;

/**
 * How hard a ZIP's parts are compressed. Deflating is the largest single cost of a large export,
 * and level 4 takes much less CPU than zlib's default 6 for a file only a little larger
 * (bench/export.ts prints the export's CPU time and file size: run it at another level to
 * compare). An export is a download that expires in a week: it is made fast rather than smallest.
 */
const DEFLATE_LEVEL = 4;

/** Bytes a producer hands out at a time: its text chunks, or the compressor's output. */
export const CHUNK_BYTES = 256 * 1024;
/** Enough for the UTF-8 of a chunk of text (CHUNK characters and the row that crosses it). */
export const SCRATCH_BYTES = 512 * 1024;

/** UTF-8 buffers the compressor reads from, reused: a fresh buffer per chunk left many dead ones per thread until V8 collected them (peak RSS: bench/export.ts). */
const SCRATCH_BUFFERS = 8;

/**
 * One part's bytes as they are made: the CSV's UTF-8 hashed and, for a ZIP, deflated (DEFLATE_LEVEL,
 * on libuv's pool, while the next rows are encoded). `take` hands out what is ready, in a buffer
 * of its own (it may be transferred to another thread).
 */
export function partBytes(compress: boolean) {
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  const ready: Buffer[] = [];
  let readyBytes = 0;
  // The compressor must be able to run ahead of the encoder: with Node's default 16 KiB buffer
  // every write waited for it, and the two took turns instead of overlapping. (zlib passes stream
  // options through to its Transform; its option type does not list them.)
  const deflate = compress ? zlib.createDeflateRaw({ level: DEFLATE_LEVEL, chunkSize: CHUNK_BYTES, writableHighWaterMark: 1024 * 1024 } as zlib.ZlibOptions)
    : null;
  deflate?.on('data', (c: Buffer) => {
    ready.push(c);
    readyBytes += c.length;
  });
  const ended = deflate ? once(deflate, 'end') : null;
  ended?.catch(() => {}); // awaited in finish(); a failure meanwhile must not go unhandled
  const scratch: Buffer[] = deflate ? Array.from({ length: SCRATCH_BUFFERS }, () => Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : [];
  const pooled = new Set(scratch);
  let freed: (() => void) | null = null;
  const release = (b: Buffer) => () => {
    scratch.push(b);
    freed?.();
    freed = null;
  };
  return {
    async write(text: string) {
      // Into a reused buffer when it will go to the compressor and fits; else (the single CSV's
      // bytes are handed out as they are) a buffer of its own.
      if (deflate && text.length * 3 <= SCRATCH_BYTES) {
        const buf = await this.buffer();
        await this.commit(buf, buf.write(text, 'utf8'));
      } else {
        await this.commit(Buffer.from(text, 'utf8'));
      }
    },
    /** A buffer of SCRATCH_BYTES to fill and commit: a reused one for the compressor, else one of its own. */
    async buffer(): Promise<Buffer> {
      if (!deflate) return Buffer.allocUnsafeSlow(SCRATCH_BYTES);
      while (scratch.length === 0) await Promise.race([new Promise<void>((resolve) => { freed = resolve; }), ended]);
      return scratch.pop()!;
    },
    /** The first `length` bytes of `buf` (all of them without), which is the part's from now on: a buffer() goes back to be reused. */
    async commit(buf: Buffer, length = buf.length) {
      const bytes = length === buf.length ? buf : buf.subarray(0, length);
      hash.update(bytes);
      crc = zlib.crc32(bytes, crc);
      size += bytes.length;
      if (deflate) await this.deflate(bytes, pooled.has(buf) ? release(buf) : undefined);
      else {
        ready.push(bytes);
        readyBytes += bytes.length;
      }
    },
    async deflate(bytes: Buffer, done?: () => void) {
      if (!deflate!.write(bytes, done)) {
        await Promise.race([once(deflate!, 'drain'), ended]);
      } else {
        // The compressor's progress is an event-loop callback; an encoder that only ever awaits
        // resolved promises would starve it.
        await new Promise(setImmediate);
      }
    },
    take(): Buffer | null {
      if (ready.length === 0) return null;
      const out = Buffer.allocUnsafeSlow(readyBytes);
      let at = 0;
      for (const c of ready) at += c.copy(out, at);
      ready.length = 0;
      readyBytes = 0;
      return out;
    },
    readyBytes: () => readyBytes,
    async finish() {
      if (deflate) {
        deflate.end();
        await ended;
      }
      return { size, sha256: hash.digest('hex'), crc: crc >>> 0 };
    },
  };
}

/** A part's bytes being made (partBytes). */
export type PartBytes = ReturnType<typeof partBytes>;
