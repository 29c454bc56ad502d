import { MessageRejectedError, type PublishResult, type Publisher } from '@orchestron/broker';
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
 * Publishes claimed rows and returns one result per row, in row order. Every row's message is
 * built before anything is sent; a row that cannot make one (its payload cannot be decrypted,
 * its sender's time cannot be read, ...) is not sent: it fails like a rejected message, so it
 * is retried and in the end dead-lettered with the reason, while the rest of the batch is
 * published.
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
      results[i] = {
        ok: false,
        error: new MessageRejectedError(`cannot be made a message: ${(error as Error).message}`, {
          cause: error,
          reason: 'unbuildable',
        }),
      };
    }
  }
  const sent = await publisher.publish(messages);
  sendable.forEach((rowIndex, k) => {
    results[rowIndex] = sent[k];
  });
  return results as PublishResult[];
}
