import http from 'node:http';
import pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createConsumer, createConsumerTables, type ConsumerLogger, type ConsumerOptions } from '@orchestron/consumer';
import { PROJECTION_TABLES_SQL, projectOrder } from './projection';

/**
 * The order projection service: reads `order.*` events that Orchestron's relay publishes and
 * keeps `orders` and `customer_totals` in its own database. Settings from the environment,
 * with defaults for the local stack of `npm start` (README).
 */
const env = {
  broker: process.env.BROKER ?? 'rabbitmq',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/orders_projection',
  amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  exchange: process.env.EXCHANGE ?? 'events',
  queue: process.env.QUEUE ?? 'orders.projection',
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.TOPIC ?? 'events',
  port: Number(process.env.PORT ?? 9300),
};

const logger: ConsumerLogger = {
  error: (message, meta) => log('error', message, meta),
  warn: (message, meta) => log('warn', message, meta),
  info: (message, meta) => log('info', message, meta),
  debug: () => undefined,
};

function log(level: string, message: string, meta?: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ level, message, ...meta, time: new Date().toISOString() })}\n`);
}

/** The projection's database is its own, not Orchestron's: created on first start. */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  await ensureDatabase(env.databaseUrl);
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 12 });
  await createConsumerTables(pool);
  await pool.query(PROJECTION_TABLES_SQL);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const source: ConsumerOptions['source'] =
    env.broker === 'kafka'
      ? { broker: 'kafka', brokers: env.kafkaBrokers, topic: env.topic, groupId: 'order-projection' }
      : {
          broker: 'rabbitmq',
          url: env.amqpUrl,
          queue: env.queue,
          // Single active consumer: run several replicas and orders of one key stay in order.
          declare: { exchange: env.exchange, bindingKeys: ['order.*'], singleActiveConsumer: true },
        };
  const consumer = createConsumer({ name: 'order-projection', pool, source, handler: projectOrder, registry, logger });

  const server = http.createServer((request, response) => {
    if (request.url === '/metrics') {
      void registry
        .metrics()
        .then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
    } else if (request.url === '/health') {
      void consumer
        .health()
        .then((health) =>
          response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health)),
        );
    } else {
      response.writeHead(404).end();
    }
  });
  await consumer.start();
  server.listen(env.port, '127.0.0.1');
  logger.info(`order projection consuming from ${env.broker}; metrics and health on http://127.0.0.1:${env.port}`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1); // a second signal forces the exit
    stopping = true;
    server.close();
    void consumer
      .stop()
      .then(() => pool.end())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  log('error', 'order projection failed to start', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
