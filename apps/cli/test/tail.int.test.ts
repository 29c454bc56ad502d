import { randomBytes, randomUUID } from 'node:crypto';
import type { OutboundMessage, Publisher } from '@orchestron/broker';
import { KafkaPublisher } from '@orchestron/broker-kafka';
import { RabbitMqPublisher } from '@orchestron/broker-rabbitmq';
import { amqpUrl, kafkaBrokers } from '@orchestron/testing';
import { runCli, spawnCli, type CliProcess } from './run-cli';

// `orchestron tail` as a real process against the real brokers, while messages are published.

const publishers: Publisher[] = [];
const running: CliProcess[] = [];

afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  await Promise.all(publishers.splice(0).map((p) => p.close()));
});

const unique = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;
const env = (): Record<string, string> => ({ AMQP_URL: amqpUrl(), KAFKA_BROKERS: kafkaBrokers().join(',') });

function message(destination: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const id = randomUUID();
  return {
    id,
    type: 'order.created',
    source: 'shop',
    time: new Date('2026-11-26T10:00:00.000Z'),
    contentType: 'application/json',
    destination,
    routingKey: 'order.created',
    key: 'customer-7',
    headers: { 'x-request-id': `req-${id}` },
    payload: Buffer.from(JSON.stringify({ order: id })),
    ...overrides,
  };
}

function tail(args: string[]): CliProcess {
  const cli = spawnCli(['tail', ...args], env());
  running.push(cli);
  return cli;
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function rabbitPublisher(): Promise<RabbitMqPublisher> {
  const publisher = new RabbitMqPublisher({ url: amqpUrl() });
  publishers.push(publisher);
  await publisher.connect();
  return publisher;
}

async function publishAll(publisher: Publisher, messages: OutboundMessage[]): Promise<void> {
  const results = await publisher.publish(messages);
  expect(results.every((r) => r.ok)).toBe(true);
}

describe('orchestron tail on RabbitMQ', () => {
  it('prints each message that reaches the exchange as one JSON line, and stops after --max', async () => {
    const exchange = unique('tail');
    const cli = tail([exchange, '--broker', 'rabbitmq', '--max', '3', '--timeout', '20s']);
    await cli.waitForStderr('tailing RabbitMQ exchange', 10_000);

    const publisher = await rabbitPublisher();
    const binary = Buffer.from([0xff, 0x00, 0x9c]);
    const sent = [
      message(exchange),
      message(exchange, { routingKey: 'order.refunded', type: 'order.refunded' }),
      message(exchange, { contentType: 'application/octet-stream', payload: binary }),
    ];
    for (const m of sent) await publishAll(publisher, [m]);

    expect(await cli.exited).toBe(0);
    const printed = lines(cli.stdout());
    expect(printed).toHaveLength(3);
    expect(printed[0]).toEqual({
      id: sent[0]?.id,
      type: 'order.created',
      source: 'shop',
      time: '2026-11-26T10:00:00.000Z',
      contentType: 'application/json',
      key: 'customer-7',
      routingKey: 'order.created',
      headers: expect.objectContaining({ 'x-request-id': `req-${sent[0]?.id}` }),
      payload: { order: sent[0]?.id },
    });
    expect(printed[1]).toMatchObject({ id: sent[1]?.id, routingKey: 'order.refunded', type: 'order.refunded' });
    expect(printed[2]).toMatchObject({ id: sent[2]?.id, payloadBase64: binary.toString('base64') });
    expect(printed[2]).not.toHaveProperty('payload');
  });

  it('binds with --binding-key, so only matching routing keys arrive', async () => {
    const exchange = unique('tail');
    const cli = tail([exchange, '--broker', 'rabbitmq', '--binding-key', 'order.*', '--max', '2', '--timeout', '20s']);
    await cli.waitForStderr('binding key "order.*"', 10_000);
    const publisher = await rabbitPublisher();
    // With mandatory publishing an unbound routing key comes back as rejected; that is the point.
    await publisher.publish([message(exchange, { routingKey: 'user.signed_up' })]);
    const wanted = [message(exchange), message(exchange, { routingKey: 'order.paid' })];
    await publishAll(publisher, wanted);

    expect(await cli.exited).toBe(0);
    expect(lines(cli.stdout()).map((l) => l.id)).toEqual(wanted.map((m) => m.id));
  });

  it('stops at --timeout: status 0 without --max, 1 when fewer than --max messages came', async () => {
    const exchange = unique('tail');
    const quiet = await runCli(['tail', exchange, '--broker', 'rabbitmq', '--timeout', '1s'], env());
    expect(quiet).toMatchObject({ code: 0, stdout: '' });
    const short = await runCli(['tail', exchange, '--broker', 'rabbitmq', '--timeout', '1s', '--max', '2'], env());
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('timed out after 1s with 0 of 2 message(s)');
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    const exchange = unique('tail');
    const cli = tail([exchange, '--broker', 'rabbitmq']);
    await cli.waitForStderr('Ctrl-C to stop', 10_000);
    const publisher = await rabbitPublisher();
    const sent = message(exchange);
    await publishAll(publisher, [sent]);
    for (let i = 0; i < 100 && !cli.stdout().includes(sent.id); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(lines(cli.stdout()).map((l) => l.id)).toEqual([sent.id]);
    expect(cli.stderr()).not.toMatch(/error/i);
  });

  it('refuses Kafka options and a missing destination with status 2', async () => {
    const kafkaOption = await runCli(['tail', 'x', '--broker', 'rabbitmq', '--from-beginning'], env());
    expect(kafkaOption.code).toBe(2);
    expect(kafkaOption.stderr).toContain('--group and --from-beginning are Kafka options');
    const noDestination = await runCli(['tail'], env());
    expect(noDestination.code).toBe(2);
    expect(noDestination.stderr).toContain('usage: orchestron tail DESTINATION');
  });
});

describe('orchestron tail on Kafka', () => {
  it('prints what reaches the topic, from the beginning with --from-beginning, key and headers included', async () => {
    const topic = unique('tail');
    const publisher = new KafkaPublisher({ brokers: kafkaBrokers(), clientId: 'tail-test', topicPartitions: 1 });
    publishers.push(publisher);
    const before = message(topic, { key: 'k-1' });
    await publishAll(publisher, [before]);

    const cli = tail([topic, '--broker', 'kafka', '--from-beginning', '--max', '3', '--timeout', '60s']);
    await cli.waitForStderr('tailing Kafka topic', 45_000);
    const during = [message(topic, { key: 'k-2' }), message(topic, { key: null, payload: Buffer.from('not json') })];
    await publishAll(publisher, during);

    expect(await cli.exited).toBe(0);
    const printed = lines(cli.stdout());
    expect(printed.map((l) => l.id)).toEqual([before.id, ...during.map((m) => m.id)]);
    expect(printed[0]).toMatchObject({
      type: 'order.created',
      source: 'shop',
      key: 'k-1',
      routingKey: null,
      contentType: 'application/json',
      headers: expect.objectContaining({
        ce_id: before.id,
        ce_type: 'order.created',
        'x-request-id': `req-${before.id}`,
      }),
      payload: { order: before.id },
    });
    expect(printed[2]).toMatchObject({ key: null, payloadBase64: Buffer.from('not json').toString('base64') });
  }, 90_000);

  it('refuses RabbitMQ options', async () => {
    const result = await runCli(['tail', 'x', '--broker', 'kafka', '--queue', 'q'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--queue and --binding-key are RabbitMQ options');
  });
});
