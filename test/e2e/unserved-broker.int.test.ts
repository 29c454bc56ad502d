import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { runCli } from '../../apps/cli/test/run-cli';
import { postEvents, signup, uniqueName } from './harness';

// Ingest and relay configured apart, as separate ConfigMaps allow: ingest routes to Kafka,
// the relay serves RabbitMQ only. The row can never be published by this relay; it must show
// in the relay's per-broker gauges, its log and `orchestron outbox stats` instead of waiting
// unseen.

const STATS_INTERVAL_MS = 1_000;

let database: TestDatabase;
const running: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase('e2e_unserved_broker');
});

afterAll(async () => {
  await Promise.all(running.map((app) => app.kill()));
  await database.drop();
});

describe('a row routed to a broker no relay serves', () => {
  it('shows in the relay metrics, its log and outbox stats within one stats interval', async () => {
    const topic = uniqueName('orchestron_unserved');
    const ingest = await startApp('ingest', {
      DATABASE_URL: database.url,
      ORCHESTRON_BROKER_TYPE: 'kafka',
      KAFKA_BROKERS: '127.0.0.1:9092',
      ORCHESTRON_ROUTING_DEFAULT_TOPIC: topic,
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
    });
    running.push(ingest);
    const relay = await startApp('relay', {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_BROKER_TYPE: 'rabbitmq',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: uniqueName('orchestron_unserved'),
      ORCHESTRON_OUTBOX_STATS_INTERVAL: `${STATS_INTERVAL_MS}ms`,
    });
    running.push(relay);

    const response = await postEvents(ingest.url, signup(1));
    expect(response.status).toBe(202);
    const acceptedAt = Date.now();

    let scrape = '';
    // One interval, plus slack for a machine shared with other test runs.
    await eventually(
      async () => {
        scrape = await (await fetch(`${relay.url}/metrics`)).text();
        return /^orchestron_outbox_pending\{broker="kafka",service="relay"\} 1$/m.test(scrape);
      },
      { timeoutMs: STATS_INTERVAL_MS + 4_000, message: () => `no kafka backlog in the scrape:\n${scrape}` },
    );
    expect(Date.now() - acceptedAt).toBeLessThan(STATS_INTERVAL_MS + 4_000);
    expect(scrape).toMatch(/^orchestron_relay_serves_broker\{broker="kafka",service="relay"\} 0$/m);
    expect(scrape).toMatch(/^orchestron_relay_serves_broker\{broker="rabbitmq",service="relay"\} 1$/m);
    expect(scrape).toMatch(/^orchestron_outbox_pending\{broker="rabbitmq",service="relay"\} 0$/m);
    expect(scrape).toMatch(/^orchestron_outbox_oldest_pending_age_seconds\{broker="kafka",service="relay"\} /m);
    await eventually(() => relay.output().includes('does not serve'), {
      timeoutMs: 5_000,
      message: () => `no warning in the relay log:\n${relay.output()}`,
    });

    const stats = await runCli(['outbox', 'stats', '--json'], { DATABASE_URL: database.url });
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout) as {
      pending: number;
      brokers: Array<{ broker: string; pending: number }>;
      destinations: Array<{ broker: string; destination: string; pending: number }>;
    };
    expect(parsed.pending).toBe(1);
    expect(parsed.brokers).toEqual([expect.objectContaining({ broker: 'kafka', pending: 1 })]);
    expect(parsed.destinations).toEqual([expect.objectContaining({ broker: 'kafka', destination: topic, pending: 1 })]);

    const text = await runCli(['outbox', 'stats'], { DATABASE_URL: database.url });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^kafka\\s+${topic}\\s+1\\s`, 'm'));

    // The row is still there, untouched: counted, not published, not lost.
    const [row] = await database.db('outbox').where({ broker: 'kafka', status: 'pending' }).count({ n: '*' });
    expect(Number(row?.n)).toBe(1);
  });
});
