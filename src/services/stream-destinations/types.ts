/** One entry as a destination sends it: its JSON line, and what the syslog header and NATS need. */
export interface OutgoingEntry {
  id: string;
  seq: number;
  hash: string;
  action: string;
  auditedAt: number;
  /** The record's JSON (the audit log API's entry, plus seq, hash, prev_hash and prev_seq), one line. */
  json: string;
}

/**
 * Where a stream's batches go. `send` resolves once the destination has taken every entry of the
 * batch, in order, and throws a DestinationError (its message shown in the stream's status) if not.
 */
export interface Destination {
  send(batch: readonly OutgoingEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** A delivery failure the stream's owner may read (the receiver's answer, a refused connection, a timeout). */
export class DestinationError extends Error {}

/** Socket and library errors as one readable line, without a stack. */
export function reason(err: unknown): string {
  if (err instanceof DestinationError) return err.message;
  const e = err as { code?: string; message?: string; cause?: { message?: string } } | null;
  const text = e?.cause?.message ?? e?.message ?? String(err);
  return e?.code && !text.includes(e.code) ? `${e.code}: ${text}` : text;
}
