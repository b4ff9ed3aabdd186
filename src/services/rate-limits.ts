import { AppError } from '../domain/errors.ts';
import type { ServiceDeps } from './context.ts';

export const MINUTE = 60_000;

/** At most `max` hits per fixed window of `windowMs` under `key`. */
export interface RateLimit { key: string; max: number; windowMs: number }

/** Why a hit was refused, and for how long the caller should wait. */
export interface Refusal { key: string; retryAfterMs: number }

/**
 * Counts one hit on every limit, in the database so that every node sharing it counts together,
 * and returns the refusal with the longest wait when a limit is exceeded or its key is locked
 * out; null when the hit may go ahead.
 */
export async function hitLimits(deps: ServiceDeps, limits: RateLimit[]): Promise<Refusal | null> {
  const now = deps.clock();
  let refusal: Refusal | null = null;
  for (const limit of limits) {
    const windowStart = now - (now % limit.windowMs);
    const { count, lockedUntil } = await deps.store.repos.limits.hit(limit.key, windowStart);
    const wait = lockedUntil !== null && lockedUntil > now ? lockedUntil - now
      : count > limit.max ? windowStart + limit.windowMs - now : 0;
    if (wait > (refusal?.retryAfterMs ?? 0)) refusal = { key: limit.key, retryAfterMs: wait };
  }
  return refusal;
}

/**
 * Failed logins are counted in one-minute buckets and summed over the failure window: a window
 * that slides by the minute. One fixed window let a burst straddling its boundary through (9
 * failures before it and 9 after, 18 in 12 s, no lockout).
 */
const FAILURE_BUCKET_MS = MINUTE;

/** The keys of a key's failure buckets that make up the window ending now, the newest first, with their starts. */
function failureBuckets(key: string, now: number, windowMs: number) {
  const newest = now - (now % FAILURE_BUCKET_MS);
  // The current minute and the 14 before it: no more, or a failure just after a 15-minute lockout
  // would still count the failures that caused it, and lock again at once.
  return Array.from({ length: Math.ceil(windowMs / FAILURE_BUCKET_MS) }, (_, i) => {
    const start = newest - i * FAILURE_BUCKET_MS;
    return { key: `failures:${key}:${start}`, start };
  });
}

/** What lifting a key's lockout forgets: the key (its lock) and its failures in the window. */
export const unlockKeys = (key: string, now: number, windowMs: number) => [key, ...failureBuckets(key, now, windowMs).map((b) => b.key)];

/**
 * Counts a failed login against each key (`[key, max]`; a null key is skipped) over the failure
 * window, and locks a key out for `lockoutMs` when its failures reach `max`. Returns whether this
 * failure went past a limit (the caller stops auditing failures one by one) and, when it reached
 * one, when the lockout ends.
 */
export async function countFailure(deps: ServiceDeps, keys: [string | null | undefined, number][],
  opts: { failureWindowMs: number; lockoutMs: number }) {
  const now = deps.clock();
  const until = now + opts.lockoutMs;
  let over = false;
  let lockedUntil: number | null = null;
  for (const [key, max] of keys) {
    if (!key) continue;
    const buckets = failureBuckets(key, now, opts.failureWindowMs);
    // This minute's count comes from the upsert itself (concurrent failures each get their own
    // number, so exactly one reaches max); the earlier minutes are closed and only summed.
    const { count: thisMinute } = await deps.store.repos.limits.hit(buckets[0].key, buckets[0].start);
    const count = thisMinute + await deps.store.repos.limits.sum(buckets.slice(1).map((b) => b.key));
    if (count > max) over = true;
    // At max or past it (two nodes may both count past max at once): the lock never shortens.
    if (count >= max) {
      await deps.store.repos.limits.lock(key, until);
      if (count === max) lockedUntil = until;
    }
  }
  return { over, lockedUntil };
}

/** TOO_MANY_REQUESTS (429) with `details.retry_after` in whole seconds (the HTTP layer sends it as Retry-After). */
export const tooManyRequests = (refusal: Refusal, message: string) =>
  new AppError('TOO_MANY_REQUESTS', message, { retry_after: Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)) });

/** Forgets counters no window or lockout still needs (the longest is an hour). */
export const pruneRateLimits = (deps: ServiceDeps) => {
  const now = deps.clock();
  return deps.store.repos.limits.prune(now - 60 * MINUTE, now);
};
