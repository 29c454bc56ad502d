import {
  createTestDatabase,
  eventually,
  startApp,
  TcpProxy,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, postEvents, signup, uniqueName, type Received } from './harness';
import { relayEnv } from './relay-harness';

// The relay's RabbitMQ reconnect backoff follows outbox.broker_backoff_max, as the claim
// loop's pause does: after an outage the relay is back within that bound, not the adapter's
// own 30 s default.

const BACKOFF_MAX_MS = 1_000;
const OUTAGE_MS = 8_000;

let database: TestDatabase;
let proxy: TcpProxy;
let received: Received | undefined;
const running: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase('e2e_reconnect_backoff');
  const amqp = new URL(process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  proxy = await TcpProxy.start(amqp.hostname, Number(amqp.port || 5672));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await received?.close();
  await proxy.close();
  await database.drop();
});

/** The reconnect delays the RabbitMQ adapter logged ('could not connect', retryInMs). */
function reconnectDelays(output: string): number[] {
  return output
    .split('\n')
    .filter((line) => line.includes('RabbitMQ publisher could not connect'))
    .map((line) => (JSON.parse(line) as { retryInMs: number }).retryInMs);
}

describe('relay reconnecting to RabbitMQ', () => {
  it('waits at most outbox.broker_backoff_max between connection attempts and publishes soon after the broker is back', async () => {
    const exchange = uniqueName('orchestron_backoff');
    received = await consumeRabbitMq(exchange);
    const amqpViaProxy = new URL(process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    amqpViaProxy.host = `127.0.0.1:${proxy.port}`;
    const env = { ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange };
    const ingest = await startApp('ingest', {
      DATABASE_URL: database.url,
      ...env,
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    const relay = await startApp(
      'relay',
      relayEnv(database.url, {
        ...env,
        AMQP_URL: amqpViaProxy.toString(),
        ORCHESTRON_OUTBOX_BROKER_BACKOFF_MAX: `${BACKOFF_MAX_MS}ms`,
        ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
      }),
    );
    running.push(ingest, relay);
    const first = ((await (await postEvents(ingest.url, signup(1))).json()) as { id: string }).id;
    await eventually(() => received?.distinctIds().has(first) ?? false, {
      timeoutMs: 30_000,
      message: () => `the first event never arrived:\n${relay.output()}`,
    });

    await proxy.cut();
    const during = ((await (await postEvents(ingest.url, signup(2))).json()) as { id: string }).id;
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await proxy.restore();
    const back = Date.now();
    await eventually(() => received?.distinctIds().has(during) ?? false, {
      timeoutMs: 30_000,
      message: () => `the event sent during the outage never arrived:\n${relay.output()}`,
    });
    const recoveredInMs = Date.now() - back;

    const delays = reconnectDelays(relay.output());
    // With the adapter's own cap, the fifth failed attempt (about 3 s into the outage) already
    // waits 1.6-3.2 s, the sixth 3.2-6.4 s.
    expect(delays.length).toBeGreaterThanOrEqual(5);
    expect(delays.filter((d) => d > BACKOFF_MAX_MS)).toEqual([]);
    // Adapter backoff + claim loop backoff + publishing, with room for a busy machine.
    expect(recoveredInMs).toBeLessThan(2 * BACKOFF_MAX_MS + 3_000);
  });
});
