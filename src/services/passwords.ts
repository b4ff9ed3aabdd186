import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes with scrypt, a memory-hard function (RFC 7914): `scrypt$<N>$<r>$<p>$<salt hex>$<hash hex>`.
 * N = 2^15 and r = 8 take 32 MiB and about 100 ms a guess, OWASP's recommended floor. The
 * parameters travel with each hash, so they can be raised later without breaking older hashes.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options,
    (err, key) => (err ? reject(err) : resolve(key))));
}

/** The hash to store for a password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** A hash no password matches, checked when the email is unknown so that both take as long. */
let decoy: Promise<string> | null = null;
export const decoyHash = () => (decoy ??= hashPassword(randomBytes(16).toString('hex')));

/**
 * Whether the password matches the stored hash, compared in constant time. Also reads the
 * older `scrypt$<salt>$<hash>` form (N = 2^14). A malformed or missing hash matches nothing.
 */
export async function checkPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const parts = stored.split('$');
  let o = { N: 2 ** 14, r: 8, p: 1 };
  let salt: string;
  let hash: string;
  if (parts.length === 6 && parts[0] === 'scrypt') {
    o = { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) };
    [salt, hash] = [parts[4], parts[5]];
  } else if (parts.length === 3 && parts[0] === 'scrypt') {
    [salt, hash] = [parts[1], parts[2]];
  } else {
    return false;
  }
  if (![o.N, o.r, o.p].every((n) => Number.isInteger(n) && n > 0) || o.N > 2 ** 20 || o.r > 32 || o.p > 16) return false;
  const expected = Buffer.from(hash, 'hex');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(salt, 'hex'), o);
  return timingSafeEqual(key, expected);
}

/** A readable random password for printed first-start credentials. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}
