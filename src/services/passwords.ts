import { randomBytes, scryptSync } from 'node:crypto';

/** scrypt password hashes: `scrypt$<salt hex>$<hash hex>`. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

/** A readable random password for printed first-start credentials. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}
