import type { OrchestronConfig } from './schema';

/** The AMQP URL the relay connects with: broker.rabbitmq.url, or one built from its parts. */
export function amqpUrlFrom(rabbitmq: OrchestronConfig['broker']['rabbitmq']): string {
  if (rabbitmq.url) return rabbitmq.url;
  const scheme = rabbitmq.tls ? 'amqps' : 'amqp';
  const auth = `${encodeURIComponent(rabbitmq.user)}:${encodeURIComponent(rabbitmq.password)}`;
  const vhost = rabbitmq.vhost === '/' ? '' : encodeURIComponent(rabbitmq.vhost);
  return `${scheme}://${auth}@${rabbitmq.host}:${rabbitmq.port}/${vhost}`;
}
