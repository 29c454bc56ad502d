// amqplib's own encoders, which `Channel.publish` runs on every message (amqplib ships no
// types for them). marshal.ts runs them before a message is sent, so that a message amqplib
// cannot encode is that message's rejection instead of an exception mid-batch.
declare module 'amqplib/lib/api_args' {
  export function publish(exchange: string, routingKey: string, options: object): Record<string, unknown>;
}

declare module 'amqplib/lib/defs' {
  export const BasicPublish: number;
  export const BasicProperties: number;
  export function encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  export function encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
}
