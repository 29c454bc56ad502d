import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** An encrypted payload as stored: which key, and iv | auth tag | ciphertext. */
export interface EncryptedPayload {
  keyId: string;
  data: Buffer;
}

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM encryption of stored payloads under a key id, so keys can rotate: new payloads
 * use the active key, old ones stay readable while their key is still configured. The event
 * id is the additional authenticated data, so a ciphertext copied onto another event's row
 * does not decrypt.
 */
export class PayloadCipher {
  private readonly keys: Map<string, Buffer>;

  constructor(
    keys: ReadonlyArray<{ id: string; key: string }>,
    private readonly activeKeyId: string | null,
  ) {
    this.keys = new Map(keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
    for (const [id, key] of this.keys) {
      if (key.length !== 32) throw new Error(`encryption key "${id}" is not 32 bytes`);
    }
    if (activeKeyId && !this.keys.has(activeKeyId)) throw new Error(`no encryption key "${activeKeyId}"`);
  }

  /** True when new payloads are to be encrypted. */
  get encrypting(): boolean {
    return Boolean(this.activeKeyId);
  }

  encrypt(eventId: string, plaintext: Buffer): EncryptedPayload {
    if (!this.activeKeyId) throw new Error('no active encryption key');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId) as Buffer, iv);
    cipher.setAAD(Buffer.from(eventId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: this.activeKeyId, data: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]) };
  }

  decrypt(eventId: string, payload: EncryptedPayload): Buffer {
    const key = this.keys.get(payload.keyId);
    if (!key) throw new PayloadDecryptionError(`encryption key "${payload.keyId}" is not configured`);
    if (payload.data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('encrypted payload is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, payload.data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(eventId, 'utf8'));
      decipher.setAuthTag(payload.data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(payload.data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `payload of event ${eventId} failed authentication under key "${payload.keyId}"`,
      );
    }
  }
}
