import path from 'node:path';

// amqplib's own encoders, which `Channel.publish` runs on every message (amqplib ships no
// types for them). marshal.ts runs them before a message is sent, so that a message amqplib
// cannot encode is that message's rejection instead of an exception mid-batch. amqplib 2
// exports only its API (package.json "exports"), so they are loaded from its files by path;
// the lockfile pins the version, and marshal.test.ts fails if a new one moves them.

interface ApiArgs {
  publish(exchange: string, routingKey: string, options: object): Record<string, unknown>;
}

interface Defs {
  readonly BasicPublish: number;
  readonly BasicProperties: number;
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
}

const amqplibDirectory = path.dirname(require.resolve('amqplib'));
const load = (file: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file of amqplib's, not a module it exports
  require(path.join(amqplibDirectory, 'lib', file));

export const { publish: publishArguments } = load('api_args.js') as ApiArgs;
export const { BasicPublish, BasicProperties, encodeMethod, encodeProperties } = load('defs.js') as Defs;
