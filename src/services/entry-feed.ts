import type { BoundStore } from '../store/bound-store.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { bookkeeping, type ServiceDeps } from './context.ts';

/**
 * The durable feed every reacting feature reads the audit log through (DESIGN §7): alerts now,
 * anomaly findings and SIEM streams later. Each consumer has a cursor per organisation (the last
 * chain sequence it processed). A step reads the entries after it in chain order, hands them to
 * the consumer and moves the cursor in the same transaction as whatever the consumer wrote (an
 * alert's pending deliveries), so a process killed at any point either committed both or
 * neither: nothing is lost, nothing produced twice. No hook on the write path: the chain is the
 * queue.
 *
 * Sequence numbers are given under the organisation's chain head lock, which the writer holds
 * until it commits, so once an entry is visible every entry before it is too: reading `seq >
 * cursor` never skips an entry that commits later. Retention purges a prefix of the chain: a
 * cursor behind the purge simply finds the next entry that remains.
 */
export interface FeedBatch {
  orgId: string;
  rows: AuditEntryTable[];
  /** The transaction's bound store: write what the batch produced through it. */
  store: BoundStore;
  now: number;
}

export function createEntryFeed(deps: ServiceDeps) {
  /**
   * Starts `consumer`'s cursor in the organisation at `seq` (the chain head, to watch from now
   * on) unless it has one; inside the transaction that creates what needs it (an alert rule).
   */
  async function ensure(store: BoundStore, consumer: string, orgId: string, seq: number) {
    await store.cursors.ensure(consumer, orgId, seq, deps.clock());
  }

  /** Organisations where the consumer has a cursor behind the chain head. */
  const lagging = (consumer: string) => deps.store.repos.cursors.lagging(consumer);

  /**
   * Processes at most `batchSize` entries after the cursor: one transaction that reads them, lets
   * `consume` write what they produce and moves the cursor past them. Returns how many entries
   * it processed (0: caught up, or no cursor). No network call belongs in `consume`.
   */
  async function step(consumer: string, orgId: string, batchSize: number, consume: (batch: FeedBatch) => Promise<void>): Promise<number> {
    return bookkeeping(deps, `the ${consumer} consumer's cursor and what it produced from entries already audited`, async (store) => {
      const cursor = await store.cursors.lock(consumer, orgId);
      if (!cursor) return 0;
      const from = Number(cursor.last_seq);
      const rows = await store.cursors.entriesAfter(orgId, from, batchSize);
      if (rows.length === 0) return 0;
      const now = deps.clock();
      await consume({ orgId, rows, store, now });
      const to = Number(rows[rows.length - 1].seq);
      // Another worker that moved it first would make this batch a repeat: roll it back.
      if (!(await store.cursors.advance(consumer, orgId, from, to, now))) throw new CursorMovedError(consumer, orgId);
      return rows.length;
    });
  }

  /** Steps until the consumer is caught up in the organisation (or `maxBatches` ran); returns the entries processed. */
  async function drain(consumer: string, orgId: string, batchSize: number, consume: (batch: FeedBatch) => Promise<void>,
    maxBatches = Infinity): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      let n: number;
      try {
        n = await step(consumer, orgId, batchSize, consume);
      } catch (e) {
        if (e instanceof CursorMovedError) return total;
        throw e;
      }
      total += n;
      if (n < batchSize) break;
    }
    return total;
  }

  /** The organisation's consumers and how far behind the chain head each is. */
  const positions = (orgId: string) => deps.store.repos.cursors.ofOrg(orgId);

  return { ensure, lagging, step, drain, positions };
}

/** Another worker moved the cursor during the step (only possible without the row lock): the step rolled back. */
export class CursorMovedError extends Error {
  constructor(consumer: string, orgId: string) {
    super(`the ${consumer} cursor of organisation ${orgId} moved during the step`);
  }
}

export type EntryFeed = ReturnType<typeof createEntryFeed>;
