import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as integrity from '../store/integrity-store.ts';
import type { AuditCheckpointTable } from '../store/schema.ts';
import type { ServiceDeps } from './context.ts';

export interface SigningKey { keyId: string; privateKey: KeyObject; publicPem: string }

const KEY_FILE = 'ed25519-private.pem';

/**
 * The organisation-independent Ed25519 signing key of this installation: generated at first
 * start and kept in `<data dir>/integrity/` (mode 0600). Without a directory (tests) the key
 * lives in memory only. Its public half is registered in the database, so any node can verify
 * what any other node signed.
 */
export function loadOrCreateKey(dir: string | null): SigningKey {
  let privateKey: KeyObject;
  const file = dir ? path.join(dir, KEY_FILE) : null;
  if (file && existsSync(file)) {
    privateKey = createPrivateKey(readFileSync(file));
  } else {
    privateKey = generateKeyPairSync('ed25519').privateKey;
    if (file) {
      mkdirSync(dir!, { recursive: true, mode: 0o700 });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
  }
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    keyId: createHash('sha256').update(der).digest('hex').slice(0, 16),
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The payload a checkpoint's signature covers, in a fixed order. */
export function checkpointPayload(c: Omit<AuditCheckpointTable, 'id' | 'key_id' | 'signature'>): string {
  return JSON.stringify(['auditrail-checkpoint-v1', c.org_id, Number(c.seq), c.hash, Number(c.cutoff), Number(c.purged),
    c.prev_signature, Number(c.created_at)]);
}

/** Signing and verification with the installation key. */
export function createIntegrityService(deps: ServiceDeps, key: SigningKey) {
  let registered = false;

  async function ensureRegistered() {
    if (registered) return;
    await integrity.registerPublicKey(deps.store.db, key.keyId, key.publicPem, deps.clock());
    registered = true;
  }

  const signText = (text: string) => sign(null, Buffer.from(text), key.privateKey).toString('base64');

  /** True when the signature over the text verifies with the registered key `keyId`. */
  async function verifyText(keyId: string, text: string, signature: string): Promise<boolean> {
    const row = await integrity.getPublicKey(deps.store.db, keyId);
    if (!row) return false;
    try {
      return verify(null, Buffer.from(text), createPublicKey(row.public_key), Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  function publicKeyInfo() {
    return { algorithm: 'Ed25519', key_id: key.keyId, public_key: key.publicPem };
  }

  return { ensureRegistered, signText, verifyText, publicKeyInfo, keyId: key.keyId, listKeys: () => integrity.listPublicKeys(deps.store.db) };
}

export type IntegrityService = ReturnType<typeof createIntegrityService>;
