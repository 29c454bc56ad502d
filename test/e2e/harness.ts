import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReceivedMessage, Subscription } from '@orchestron/broker';
import { KafkaConsumer } from '@orchestron/broker-kafka';
import { RabbitMqConsumer } from '@orchestron/broker-rabbitmq';
import { amqpUrl, eventually, kafkaBrokers, REPO_ROOT, type AppProcess } from '@orchestron/testing';

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

export const signup = (n: number, extra: Record<string, unknown> = {}) => ({
  type: 'user.signed_up',
  data: { user_id: `u${n}`, email: `u${n}@example.com`, signed_up_at: '2026-11-26T10:00:00Z' },
  ...extra,
});

/** What a consumer bound to the destination received, in arrival order. */
export class Received {
  constructor(
    readonly messages: ReceivedMessage[],
    private readonly subscription: Subscription,
    private readonly consumer: { close(): Promise<void> },
  ) {}

  ids(): string[] {
    return this.messages.map((m) => m.id ?? '');
  }

  distinctIds(): Set<string> {
    return new Set(this.ids());
  }

  async waitForDistinct(count: number, timeoutMs: number): Promise<void> {
    await eventually(() => this.distinctIds().size >= count, {
      timeoutMs,
      message: () => `received ${this.distinctIds().size} of ${count} distinct events`,
    });
  }

  async close(): Promise<void> {
    await this.subscription.stop();
    await this.consumer.close();
  }
}

/** A queue bound with "#" to the exchange, consuming from now on. */
export async function consumeRabbitMq(exchange: string): Promise<Received> {
  const consumer = new RabbitMqConsumer({ url: amqpUrl(), prefetch: 500 });
  const messages: ReceivedMessage[] = [];
  const subscription = await consumer.subscribe({ destination: exchange, bindingKey: '#' }, (m) => {
    messages.push(m);
  });
  return new Received(messages, subscription, consumer);
}

/** A fresh consumer group reading the topic from its beginning (the topic must exist). */
export async function consumeKafka(topic: string): Promise<Received> {
  const consumer = new KafkaConsumer({ brokers: kafkaBrokers(), clientId: 'orchestron-e2e' });
  const messages: ReceivedMessage[] = [];
  const subscription = await consumer.subscribe(
    { destination: topic, group: uniqueName('e2e'), fromBeginning: true },
    (m) => {
      messages.push(m);
    },
  );
  return new Received(messages, subscription, consumer);
}

/** Routing rules that send every event to both a Kafka topic and a RabbitMQ exchange. */
export function fanOutRules(topic: string, exchange: string): string {
  return JSON.stringify([
    {
      destinations: [
        { broker: 'kafka', topic },
        { broker: 'rabbitmq', exchange },
      ],
    },
  ]);
}

export async function postEvents(ingestUrl: string, body: unknown): Promise<Response> {
  return fetch(`${ingestUrl}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Posts `count` events in batches of `batchSize`; returns the ids ingest gave them. */
export async function postMany(ingestUrl: string, count: number, batchSize = 100, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => signup(offset + start + i));
    const response = await postEvents(ingestUrl, batch);
    if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
    ids.push(...((await response.json()) as { ids: string[] }).ids);
  }
  return ids;
}

/** orchestron_config_reloads_total{result} of a running app, from its /metrics. */
export async function reloadCount(app: AppProcess, result: 'success' | 'failure'): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = new RegExp(`^orchestron_config_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return Number(line?.[1] ?? NaN);
}

/**
 * A temporary schemas directory: the repository's schemas plus version 1 of `type` with
 * `schema`. The caller removes it (rmSync, recursive).
 */
export function schemasWith(type: string, schema: object): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestron-e2e-schemas-'));
  cpSync(path.join(REPO_ROOT, 'schemas'), dir, { recursive: true });
  mkdirSync(path.join(dir, type));
  writeFileSync(path.join(dir, type, '1.json'), JSON.stringify(schema));
  return dir;
}
