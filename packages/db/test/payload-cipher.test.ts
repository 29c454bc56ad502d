import { randomBytes } from 'node:crypto';
import { PayloadCipher, PayloadDecryptionError } from '../src/payload-cipher';

const key = (): string => randomBytes(32).toString('base64');

describe('PayloadCipher', () => {
  const keys = [
    { id: 'k1', key: key() },
    { id: 'k2', key: key() },
  ];

  it('round-trips a payload and never stores it in clear', () => {
    const cipher = new PayloadCipher(keys, 'k2');
    const plaintext = Buffer.from('{"card":"4111 1111 1111 1111"}');
    const encrypted = cipher.encrypt('event-1', plaintext);
    expect(encrypted.keyId).toBe('k2');
    expect(encrypted.data.includes(Buffer.from('4111'))).toBe(false);
    expect(cipher.decrypt('event-1', encrypted)).toEqual(plaintext);
  });

  it('decrypts payloads of a retired key while it is still configured (rotation)', () => {
    const old = new PayloadCipher(keys, 'k1').encrypt('e', Buffer.from('x'));
    expect(new PayloadCipher(keys, 'k2').decrypt('e', old).toString()).toBe('x');
  });

  it('refuses a tampered ciphertext, another event id, and an unknown key', () => {
    const cipher = new PayloadCipher(keys, 'k1');
    const encrypted = cipher.encrypt('e', Buffer.from('payload'));
    const tampered = Buffer.from(encrypted.data);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(() => cipher.decrypt('e', { ...encrypted, data: tampered })).toThrow(PayloadDecryptionError);
    expect(() => cipher.decrypt('other-event', encrypted)).toThrow(PayloadDecryptionError);
    expect(() => cipher.decrypt('e', { ...encrypted, keyId: 'gone' })).toThrow(/not configured/);
  });

  it('refuses keys that are not 256 bits and an active key that is not listed', () => {
    expect(() => new PayloadCipher([{ id: 'short', key: randomBytes(16).toString('base64') }], null)).toThrow(
      /32 bytes/,
    );
    expect(() => new PayloadCipher(keys, 'k9')).toThrow(/k9/);
    expect(new PayloadCipher(keys, null).encrypting).toBe(false);
  });
});
