import { randomInt } from 'node:crypto';

/**
 * 19-digit decimal ids, as Zoho's. Layout of the number below 2^63:
 * 10^18 + (milliseconds since 2024-01-01) * 2^20 + (sequence: 10 bits) * 2^10 + (node tag: 10 bits).
 * Ids from one process are strictly increasing, so they sort by creation within a process,
 * and the random node tag keeps processes sharing one database apart.
 */
const EPOCH = Date.UTC(2024, 0, 1);
const BASE = 10n ** 18n;
const NODE = BigInt(randomInt(1024));
let lastMs = 0;
let seq = 0;

export function newId(now = Date.now()): string {
  let ms = Math.max(now - EPOCH, lastMs);
  if (ms === lastMs) {
    seq += 1;
    if (seq >= 1024) {
      ms += 1;
      seq = 0;
    }
  } else {
    seq = 0;
  }
  lastMs = ms;
  return (BASE + (BigInt(ms) << 20n) + (BigInt(seq) << 10n) + NODE).toString();
}

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;

/** True when the value is a Zoho-style id: decimal digits, no leading zero, fits in int64. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value) && BigInt(value) < 2n ** 63n;
}

/** A short numeric id like Zoho's zgid / zsoid, derived from the organisation id. */
export function shortOrgId(orgId: string): string {
  return String(Number(BigInt(orgId) % 100_000_000n) + 10_000_000);
}
