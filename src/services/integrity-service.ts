import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
  return {
    keyId: keyIdOf(publicKey),
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The payload a checkpoint's signature covers, in a fixed order. */
export function checkpointPayload(c: Omit<AuditCheckpointTable, 'id' | 'key_id' | 'signature'>): string {
  return JSON.stringify(['auditrail-checkpoint-v1', c.org_id, Number(c.seq), c.hash, Number(c.cutoff), Number(c.purged),
    c.prev_signature, Number(c.created_at)]);
}

/** The key id of a public key: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * Signing and verification with the installation key. Signatures verify only against trusted
 * keys: this installation's own, and public keys handed over explicitly (`trustPublicKey`, from
 * `--public-key`). The keys registered in the database are published for others, never trusted
 * here: whoever can write the database could register a key of their own.
 */
export function createIntegrityService(deps: ServiceDeps, key: SigningKey) {
  let registered = false;
  const trusted = new Map<string, KeyObject>([[key.keyId, createPublicKey(key.privateKey)]]);

  async function ensureRegistered() {
    if (registered) return;
    await deps.store.repos.integrity.registerPublicKey(key.keyId, key.publicPem, deps.clock());
    registered = true;
  }

  const signText = (text: string) => sign(null, Buffer.from(text), key.privateKey).toString('base64');

  /** Trusts another installation's public key (PEM); returns its key id. */
  function trustPublicKey(pem: string): string {
    const publicKey = createPublicKey(pem);
    const id = keyIdOf(publicKey);
    trusted.set(id, publicKey);
    return id;
  }

  /** True when the signature over the text verifies with the trusted key `keyId`. */
  function verifyText(keyId: string, text: string, signature: string): boolean {
    const publicKey = trusted.get(keyId);
    if (!publicKey) return false;
    try {
      return verify(null, Buffer.from(text), publicKey, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  /** The trusted keys as PEM, for offline checks of export manifests. */
  function trustedKeys() {
    return [...trusted].map(([keyId, k]) => ({ key_id: keyId, public_key: k.export({ type: 'spki', format: 'pem' }).toString() }));
  }

  function publicKeyInfo() {
    return { algorithm: 'Ed25519', key_id: key.keyId, public_key: key.publicPem };
  }

  return { ensureRegistered, signText, verifyText, trustPublicKey, trustedKeys, publicKeyInfo, keyId: key.keyId,
    listKeys: () => deps.store.repos.integrity.listPublicKeys() };
}

export type IntegrityService = ReturnType<typeof createIntegrityService>;
