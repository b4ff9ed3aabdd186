import { PostError, postBody } from '../http-post.ts';
import { webhookSignature } from '../webhook-sender.ts';
import type { HttpsConfig } from '../../domain/stream.ts';
import { DestinationError, reason, type Destination, type OutgoingEntry } from './types.ts';

const TIMEOUT_MS = 15_000;

/**
 * An HTTPS endpoint taking JSON lines: each batch one POST of `application/x-ndjson`, one entry a
 * line, signed (`X-Auditrail-Signature: sha256=<HMAC of the raw body>`, webhook-sender's form) when
 * the stream has a secret. Any 2xx is the receiver's acknowledgement of the whole batch; anything
 * else, a redirect included (never followed), is a failure and the batch is sent again later.
 */
export function httpsDestination(streamId: string, config: HttpsConfig, secret: string | undefined): Destination {
  return {
    async send(batch: readonly OutgoingEntry[]) {
      if (batch.length === 0) return;
      const body = `${batch.map((e) => e.json).join('\n')}\n`;
      const headers: Record<string, string> = {
        'content-type': 'application/x-ndjson', 'user-agent': 'auditrail-stream', 'x-auditrail-stream': streamId,
        // The same entries always make the same key: a receiver may drop a batch it already took.
        'idempotency-key': `${streamId}:${batch[0].seq}-${batch[batch.length - 1].seq}`,
      };
      if (secret) headers['x-auditrail-signature'] = webhookSignature(secret, body);
      let res: { status: number };
      try {
        res = await postBody(config.url, headers, body, TIMEOUT_MS);
      } catch (err) {
        throw new DestinationError(err instanceof PostError ? err.message : `the receiver could not be reached (${reason(err)})`);
      }
      if (res.status < 200 || res.status >= 300) throw new DestinationError(`the receiver answered HTTP ${res.status}`);
    },
    async close() {},
  };
}
