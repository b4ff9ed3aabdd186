import { once } from 'node:events';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A streaming ZIP writer for exports, on Node's own zlib: entries are deflated on the libuv
 * thread pool (in parallel with the CSV encoding on the main thread) and checksummed with the
 * native zlib.crc32.
 *
 * Our own instead of yazl because yazl was a bottleneck of large exports (bench/export.ts): its
 * CRC-32 is computed in JavaScript on the main thread, and each entry goes through several
 * streams of its own.
 *
 * Entries are written once, in order, with sizes and CRC in a data descriptor after the data
 * (general purpose flag bit 3), so nothing is ever sought back; file names are UTF-8 (bit 11).
 * The output depends only on the entries' names, times, levels and bytes: the same export gives
 * the same archive. Archives are plain ZIP, not ZIP64: an entry or archive reaching 4 GiB, or
 * more than 65,535 entries, is refused with an error rather than written corrupt.
 */

const LIMIT_32 = 0xffffffff;
const FLAGS = 0x0008 | 0x0800;
const VERSION = 20;
const DEFLATE = 8;
/** Bytes the compressor may hold on each side before it or the caller waits (see entry()). */
const DEFLATE_BUFFER = 1024 * 1024;

interface CentralEntry { name: Buffer; time: number; date: number; crc: number; compressed: number; size: number; offset: number }

/**
 * MS-DOS time and date fields of a Date, in UTC (2-second precision): ZIP tools read them as local
 * time, but the process's time zone must not change the bytes of an archive.
 */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export interface ZipEntryWriter {
  /** Adds bytes to the entry; resolves when the compressor can take more. */
  write(chunk: Buffer): Promise<void>;
  /** Ends the entry: the remaining compressed bytes and its data descriptor are written. */
  end(): Promise<void>;
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private open = false;
  private finished = false;

  constructor(private readonly out: Writable) {}

  private async emit(chunk: Uint8Array) {
    this.offset += chunk.length;
    if (this.offset > LIMIT_32) throw new Error('the ZIP archive would exceed 4 GiB (ZIP64 is not written)');
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  /** Writes an entry's local header; one entry at a time, each ended before the next starts. */
  private async begin(name: string, mtime: Date) {
    if (this.open || this.finished) throw new Error('ZipWriter: the previous entry is still open or the archive is finished');
    if (this.entries.length >= 0xffff) throw new Error('the ZIP archive would hold more than 65,535 entries');
    this.open = true;
    const nameBytes = Buffer.from(name, 'utf8');
    const { time, date } = dosDateTime(mtime);
    const offset = this.offset;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(VERSION, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(DEFLATE, 8);
    header.writeUInt16LE(time, 10);
    header.writeUInt16LE(date, 12);
    // crc and sizes (14..25) stay zero: they follow the data in the descriptor.
    header.writeUInt16LE(nameBytes.length, 26);
    await this.emit(Buffer.concat([header, nameBytes]));
    return { nameBytes, time, date, offset };
  }

  /** Writes an entry's data descriptor and records it for the central directory. */
  private async close(e: Omit<CentralEntry, 'name'> & { nameBytes: Buffer }) {
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(e.crc >>> 0, 4);
    descriptor.writeUInt32LE(e.compressed, 8);
    descriptor.writeUInt32LE(e.size, 12);
    await this.emit(descriptor);
    this.entries.push({ name: e.nameBytes, time: e.time, date: e.date, crc: e.crc >>> 0, compressed: e.compressed, size: e.size, offset: e.offset });
    this.open = false;
  }

  /**
   * Starts an entry whose raw deflate bytes were made elsewhere (an export's worker threads
   * compress their own parts): the caller writes them and ends the entry with the CRC-32 and size
   * of the uncompressed data.
   */
  async deflatedEntry(name: string, mtime: Date) {
    const local = await this.begin(name, mtime);
    let compressed = 0;
    return {
      write: async (chunk: Uint8Array) => {
        compressed += chunk.byteLength;
        await this.emit(chunk);
      },
      end: async (crc: number, size: number) => {
        if (size > LIMIT_32 || compressed > LIMIT_32) throw new Error(`the ZIP entry ${name} would exceed 4 GiB (ZIP64 is not written)`);
        await this.close({ ...local, crc, compressed, size });
      },
    };
  }

  /** Starts an entry compressed here; one at a time, each ended before the next starts. */
  async entry(name: string, mtime: Date, level = 6): Promise<ZipEntryWriter> {
    const local = await this.begin(name, mtime);

    // The compressor works on the thread pool while the caller encodes the next chunks on the main
    // thread. It must be able to run ahead on both sides: with Node's default 16 KiB buffers it
    // stopped whenever 16 KiB of output waited for the (busy) main thread to pass them on, and the
    // two took turns instead of overlapping; a million-entry export spent a third of its time so.
    // (zlib passes stream options through to its Transform; its option type does not list them.)
    const deflate = zlib.createDeflateRaw({ level, chunkSize: 256 * 1024, writableHighWaterMark: DEFLATE_BUFFER,
      readableHighWaterMark: DEFLATE_BUFFER } as zlib.ZlibOptions);
    let crc = 0;
    let size = 0;
    let compressed = 0;
    // Copies the compressed bytes out as they come, honouring the output's backpressure.
    const drained = (async () => {
      for await (const chunk of deflate as AsyncIterable<Buffer>) {
        compressed += chunk.length;
        await this.emit(chunk);
      }
    })();
    drained.catch(() => {}); // awaited in end(); a failure meanwhile must not go unhandled

    return {
      write: async (chunk: Buffer) => {
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        if (size > LIMIT_32) throw new Error(`the ZIP entry ${name} would exceed 4 GiB (ZIP64 is not written)`);
        if (!deflate.write(chunk)) {
          const ready = once(deflate, 'drain');
          ready.catch(() => {}); // the compressor's failure reaches us through `drained`
          await Promise.race([ready, drained]);
        } else {
          // The compressor's progress (each chunk it finishes, each output it passes on) is an
          // event-loop callback; a caller that never waits would starve it.
          await new Promise(setImmediate);
        }
      },
      end: async () => {
        deflate.end();
        await drained;
        await this.close({ ...local, crc, compressed, size });
      },
    };
  }

  /** Adds a whole entry from memory. */
  async addBuffer(data: Buffer, name: string, mtime: Date, level = 6) {
    const e = await this.entry(name, mtime, level);
    await e.write(data);
    await e.end();
  }

  /** Writes the central directory and ends the output stream. */
  async finish() {
    if (this.open) throw new Error('ZipWriter: an entry is still open');
    this.finished = true;
    const start = this.offset;
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE((3 << 8) | VERSION, 4); // made by: Unix, so the attributes below are read
      h.writeUInt16LE(VERSION, 6);
      h.writeUInt16LE(FLAGS, 8);
      h.writeUInt16LE(DEFLATE, 10);
      h.writeUInt16LE(e.time, 12);
      h.writeUInt16LE(e.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.compressed, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      // extra length, comment length, disk number, internal attributes: zero
      h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
      h.writeUInt32LE(e.offset, 42);
      await this.emit(Buffer.concat([h, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.emit(end);
    this.out.end();
  }
}
