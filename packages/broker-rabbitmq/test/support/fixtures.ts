import { randomBytes } from 'node:crypto';
import { connect, type Channel } from 'amqplib';
import { amqpUrl } from '@orchestron/testing/services';

/** Names unique to this test run, so runs (and engineers) never share exchanges or queues. */
const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}.${RUN}.${counter}`;
}

/** A short-lived raw amqplib channel, for setting up and checking the broker behind the adapter. */
export async function withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
  const connection = await connect(amqpUrl());
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await use(channel);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export function brokerAddress(): { host: string; port: number } {
  const url = new URL(amqpUrl());
  return { host: url.hostname, port: Number(url.port || 5672) };
}

/** The broker URL with its host and port replaced (e.g. by a proxy's). */
export function urlVia(port: number, host = '127.0.0.1'): string {
  const url = new URL(amqpUrl());
  url.hostname = host;
  url.port = String(port);
  return url.toString();
}
