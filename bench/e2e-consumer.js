// The consumer of bench/e2e-latency.js, run in a worker thread of its own: decoding messages
// (kafkajs above all: record batches, CRC checks) then happens on another event loop, so it
// cannot hold up the main thread's paced requests and their timestamps, as it did when both
// shared one loop. Receipt times are taken here, at receipt, on the clock the main thread uses
// (process.hrtime is the system's monotonic clock, the same in every thread).
//
// workerData: { broker: 'rabbitmq' | 'kafka', destination }. Posts { ready: true } once
// consuming, then { ids, at } per received message; on { close: true } deletes what it made
// and posts { closed: true }.
'use strict';

const { parentPort, workerData } = require('node:worker_threads');
const s = require('./support');

const now = () => Number(process.hrtime.bigint()) / 1e6;
const received = (id) => parentPort.postMessage({ id, at: now() });

/** A durable queue bound with '#' to a fresh exchange, consumed; resolves with what deletes both. */
async function consumeRabbitMq(exchange) {
  const { channel, remove } = await s.exchangeWithQueue(exchange);
  await channel.prefetch(1000);
  await channel.consume(exchange, (message) => {
    if (!message) return;
    received(message.properties.messageId);
    channel.ack(message);
  });
  return remove;
}

/** A fresh 3-partition topic and a consumer reading it from the start; resolves with what deletes the topic. */
async function consumeKafka(topic) {
  const { kafka, remove } = await s.kafkaTopic(topic);
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  await consumer.run({ eachMessage: async ({ message }) => received(message.headers?.ce_id?.toString()) });
  await joined;
  return async () => {
    await consumer.disconnect();
    await remove();
  };
}

async function main() {
  const { broker, destination } = workerData;
  const close = await (broker === 'rabbitmq' ? consumeRabbitMq : consumeKafka)(destination);
  parentPort.on('message', (message) => {
    if (!message.close) return;
    close().then(
      () => parentPort.postMessage({ closed: true }),
      (error) => parentPort.postMessage({ closed: true, error: String(error) }),
    );
  });
  parentPort.postMessage({ ready: true });
}

main().catch((error) => {
  parentPort.postMessage({ failed: String(error?.stack ?? error) });
});
