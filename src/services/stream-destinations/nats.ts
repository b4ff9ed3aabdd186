import { connect, headers, type NatsConnection } from 'nats';
import type { NatsConfig, StreamSecrets } from '../../domain/stream.ts';
import { DestinationError, reason, type Destination, type OutgoingEntry } from './types.ts';

const TIMEOUT_MS = 10_000;

/**
 * NATS JetStream: each entry published to the stream's subject (default `auditrail.<org>.audit`)
 * with the entry id as `Nats-Msg-Id`, so JetStream drops a repeat within its duplicate window,
 * and headers `Auditrail-Seq` and `Auditrail-Hash`. Entries go one at a time, each waiting for
 * JetStream's acknowledgement, so the stream stores them in chain order. With `create_stream`, the
 * JetStream stream is created (capturing the subject) when it does not exist.
 */
export function natsDestination(config: NatsConfig, secrets: StreamSecrets): Destination {
  let nc: NatsConnection | null = null;
  let ensured = false;

  async function connection() {
    if (nc && !nc.isClosed()) return nc;
    nc = await connect({ servers: config.servers, timeout: TIMEOUT_MS, maxReconnectAttempts: 0, name: 'auditrail-stream',
      user: secrets.nats_user, pass: secrets.nats_pass, token: secrets.nats_token });
    if (config.create_stream && config.stream && !ensured) {
      const jsm = await nc.jetstreamManager({ timeout: TIMEOUT_MS });
      try {
        await jsm.streams.info(config.stream);
      } catch {
        await jsm.streams.add({ name: config.stream, subjects: [config.subject] });
      }
      ensured = true;
    }
    return nc;
  }

  return {
    async send(batch: readonly OutgoingEntry[]) {
      if (batch.length === 0) return;
      try {
        const js = (await connection()).jetstream({ timeout: TIMEOUT_MS });
        for (const e of batch) {
          const h = headers();
          h.set('Auditrail-Seq', String(e.seq));
          h.set('Auditrail-Hash', e.hash);
          await js.publish(config.subject, new TextEncoder().encode(e.json), { msgID: e.id, headers: h,
            ...(config.stream ? { expect: { streamName: config.stream } } : {}) });
        }
      } catch (err) {
        const c = nc;
        nc = null;
        await c?.close().catch(() => undefined);
        throw new DestinationError(`NATS ${config.servers.join(',')} ${config.subject}: ${reason(err)}`);
      }
    },
    async close() {
      const c = nc;
      nc = null;
      if (c) await c.drain().catch(() => c.close());
    },
  };
}
