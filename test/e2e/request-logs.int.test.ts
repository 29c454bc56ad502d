import {
  amqpUrl,
  createTestDatabase,
  eventually,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { consumeRabbitMq, signup, uniqueName, type Received } from './harness';

// Following one event through the logs of both processes: the request id the sender chose,
// ingest's access line and stored-events line, then the relay batch that published it.

let database: TestDatabase;
const running: AppProcess[] = [];
let consumer: Received | undefined;

function logLines(app: AppProcess): Array<Record<string, unknown>> {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_request_logs');
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((app) => app.kill()));
  await consumer?.close();
  await database.drop();
});

describe('request and batch logs', () => {
  it('carry the request id from the access line to the batch that published the event', async () => {
    const exchange = uniqueName('orchestron_logs');
    const env = {
      DATABASE_URL: database.url,
      AMQP_URL: amqpUrl(),
      ORCHESTRON_LOG_LEVEL: 'debug',
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
      ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange,
      ORCHESTRON_OUTBOX_PROCESS_INTERVAL: '200ms',
    };
    // A bound queue, so the broker routes (and confirms) the message rather than returning it.
    consumer = await consumeRabbitMq(exchange);
    const ingest = await startApp('ingest', env);
    running.push(ingest);
    const relay = await startApp('relay', env);
    running.push(relay);

    const response = await fetch(`${ingest.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-42' },
      body: JSON.stringify(signup(1)),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe('trace-me-42');
    const { id } = (await response.json()) as { id: string };

    await eventually(() => logLines(ingest).some((l) => l.message === 'request' && l.requestId === 'trace-me-42'), {
      timeoutMs: 2_000,
      message: () => ingest.output(),
    });
    const access = logLines(ingest).find((l) => l.message === 'request' && l.requestId === 'trace-me-42');
    expect(access).toMatchObject({ level: 'debug', method: 'POST', route: '/events', status: 202 });
    expect(typeof access?.durationMs).toBe('number');
    expect(logLines(ingest).find((l) => l.message === 'events stored')).toMatchObject({
      requestId: 'trace-me-42',
      eventIds: [id],
    });

    await eventually(
      () => logLines(relay).some((l) => l.message === 'batch settled' && (l.eventIds as string[]).includes(id)),
      { timeoutMs: 10_000, message: () => relay.output() },
    );
    const batch = logLines(relay).find((l) => l.message === 'batch settled' && (l.eventIds as string[]).includes(id));
    expect(batch).toMatchObject({ published: 1, failed: 0 });
    expect(batch?.batchId).toMatch(/^\d+-\d+$/);
  });
});
