import type { PublishResult, Publisher } from '@orchestron/broker';
import type { ClaimedRow, PayloadCipher } from '@orchestron/db';
import { toMessage } from './to-message';

/** The payload bytes to publish: as stored, or decrypted when stored encrypted. */
function payloadOf(row: ClaimedRow, cipher: PayloadCipher | null): Buffer {
  if (row.encryptedPayload) {
    if (!cipher) throw new Error(`event ${row.eventId} is stored encrypted, but no encryption keys are configured`);
    return cipher.decrypt(row.eventId, row.encryptedPayload);
  }
  return Buffer.from(row.payload ?? 'null', 'utf8');
}

/**
 * Publishes claimed rows and returns one result per row, in row order. A row whose payload
 * cannot be decrypted (its key is not configured, or it fails authentication) is not sent; it
 * fails like a rejected message, so it is retried and in the end dead-lettered with the reason,
 * while the rest of the batch is published.
 */
export async function publishRows(
  publisher: Publisher,
  rows: readonly ClaimedRow[],
  cipher: PayloadCipher | null,
): Promise<PublishResult[]> {
  const results: Array<PublishResult | undefined> = new Array(rows.length);
  const sendable: number[] = [];
  const messages = [];
  for (const [i, row] of rows.entries()) {
    try {
      messages.push(toMessage(row, payloadOf(row, cipher)));
      sendable.push(i);
    } catch (error) {
      results[i] = { ok: false, error: error as Error };
    }
  }
  const sent = await publisher.publish(messages);
  sendable.forEach((rowIndex, k) => {
    results[rowIndex] = sent[k];
  });
  return results as PublishResult[];
}
