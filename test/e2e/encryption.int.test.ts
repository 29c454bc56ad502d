import { randomBytes } from 'node:crypto';
import { amqpUrl, createTestDatabase, startApp, type AppProcess, type TestDatabase } from '@orchestron/testing';
import { consumeRabbitMq, postEvents, signup, uniqueName, type Received } from './harness';

// Encryption at rest: ingest stores payloads encrypted (AES-256-GCM under a key id), only
// the relay decrypts them to publish, and keys rotate without re-encrypting old events.

let database: TestDatabase;
const running: AppProcess[] = [];
const consumers: Received[] = [];
const keyOne = randomBytes(32).toString('base64');
const keyTwo = randomBytes(32).toString('base64');

function env(exchange: string, activeKey: string): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    AMQP_URL: amqpUrl(),
    ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
    ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    ORCHESTRON_API_RATE_LIMIT: '0',
    ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '1s',
    ORCHESTRON_ENCRYPTION_ACTIVE_KEY_ID: activeKey,
    ORCHESTRON_ENCRYPTION_KEYS: JSON.stringify([
      { id: 'k1', key: 'env:PAYLOAD_KEY_1' },
      { id: 'k2', key: 'env:PAYLOAD_KEY_2' },
    ]),
    PAYLOAD_KEY_1: keyOne,
    PAYLOAD_KEY_2: keyTwo,
  };
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_encryption');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await database.drop();
});

describe('encryption at rest', () => {
  it('stores payloads encrypted and publishes them decrypted, across a key rotation', async () => {
    const exchange = uniqueName('orchestron_e2e_enc');
    const received = await consumeRabbitMq(exchange);
    consumers.push(received);

    // Accepted under k1, while no relay runs.
    const ingestOne = await startApp('ingest', env(exchange, 'k1'));
    running.push(ingestOne);
    const first = (await (await postEvents(ingestOne.url, signup(1))).json()) as { id: string };
    await ingestOne.stop();

    // The active key rotates to k2; k1 stays configured for what was stored under it.
    const ingestTwo = await startApp('ingest', env(exchange, 'k2'));
    running.push(ingestTwo);
    const second = (await (await postEvents(ingestTwo.url, signup(2))).json()) as { id: string };

    const rows = await database.db('events').select('id', 'payload', 'encryption_key_id', 'payload_encrypted');
    expect(rows.map((r: { encryption_key_id: string }) => r.encryption_key_id).sort()).toEqual(['k1', 'k2']);
    for (const row of rows as Array<{ payload: unknown; payload_encrypted: Buffer }>) {
      expect(row.payload).toBeNull();
      expect(row.payload_encrypted.includes(Buffer.from('example.com'))).toBe(false);
    }

    running.push(await startApp('relay', env(exchange, 'k2')));
    await received.waitForDistinct(2, 20_000);
    const byId = new Map(received.messages.map((m) => [m.id, JSON.parse(m.payload.toString()) as unknown]));
    expect(byId.get(first.id)).toEqual(signup(1).data);
    expect(byId.get(second.id)).toEqual(signup(2).data);
  });
});
