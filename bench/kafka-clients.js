#!/usr/bin/env node
// Raw batch publishing rate of each Kafka client library, in the same run: kafkajs (the
// adapter's client until now) beside the candidates, with the relay's producer settings
// (bench/kafka-raw.js). No database and no relay: what the client alone can do here.
//
// Each round publishes MESSAGES messages (1 KB payloads, the relay's headers, mapped by
// toKafkaMessage) in batches of BATCH with every client, the clients in rotating order, each
// into its own fresh 3-partition topic; the table shows medians over ROUNDS rounds.
//
// Run by hand, after a build (`npx tsc -b`), against a loopback Kafka only:
//   node bench/kafka-clients.js
//   MESSAGES=50000 BATCH=100 ROUNDS=5 KAFKA_CLIENTS=kafkajs,platformatic node bench/kafka-clients.js
// Bounded: ROUNDS x clients publishes of MESSAGES; the topics are deleted at the end.
'use strict';

const { randomBytes } = require('node:crypto');
const s = require('./support');
const { rawKafkaPublishers } = require('./kafka-raw');

const MESSAGES = Number(process.env.MESSAGES ?? 50_000);
const BATCH = Number(process.env.BATCH ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CLIENTS = (process.env.KAFKA_CLIENTS ?? 'kafkajs,platformatic').split(',').filter(Boolean);
const BASELINE = 'kafkajs';

async function main() {
  s.requireLoopback();
  for (const client of CLIENTS) {
    if (!rawKafkaPublishers[client]) throw new Error(`unknown Kafka client ${client} (KAFKA_CLIENTS)`);
  }
  console.error(s.describeMachine());
  console.error(`${MESSAGES} messages in batches of ${BATCH}; ${ROUNDS} rounds; clients ${CLIENTS.join(', ')}`);
  const payload = Buffer.from(JSON.stringify(s.orderEvent(0).data), 'utf8');
  const topics = new Map();
  const rates = new Map(CLIENTS.map((client) => [client, []]));
  try {
    for (const client of CLIENTS) {
      const topic = `orchestron_bench_${randomBytes(4).toString('hex')}`;
      topics.set(client, { topic, ...(await s.kafkaTopic(topic, 3)) });
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length]);
      for (const client of order) {
        const { topic } = topics.get(client);
        const messages = s.outboundMessages(MESSAGES, topic, payload);
        const { perSecond } = await rawKafkaPublishers[client](topic, messages, BATCH);
        rates.get(client).push(perSecond);
        console.error(`  round ${round + 1} ${client}: ${s.fixed(perSecond)} msg/s`);
      }
    }
  } finally {
    for (const { remove } of topics.values())
      await remove().catch((error) => console.error(`cleanup: ${error.message}`));
  }
  const baseline = rates.has(BASELINE) ? s.median(rates.get(BASELINE)) : NaN;
  console.log(
    [
      s.describeMachine(),
      `raw publishing of ${MESSAGES} 1 KB messages in batches of ${BATCH} (idempotent, acks all, one send per batch in sequence), median of ${ROUNDS} rounds`,
      '',
      s.table(
        ['client', 'median msg/s', 'min - max msg/s', `vs ${BASELINE}`],
        CLIENTS.map((client) => {
          const runs = rates.get(client);
          const median = s.median(runs);
          return [
            client,
            s.fixed(median),
            `${s.fixed(Math.min(...runs))} - ${s.fixed(Math.max(...runs))}`,
            `${s.fixed(median / baseline, 2)}x`,
          ];
        }),
      ),
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
