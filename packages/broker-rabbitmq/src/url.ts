/**
 * The connection URL with the heartbeat applied. amqplib reads the heartbeat from the URL's
 * query, so an explicit `heartbeat=` in the URL wins over the option.
 */
export function connectionUrl(url: string, heartbeatSeconds: number): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new TypeError(`RabbitMQ URL must start with amqp:// or amqps:// (got ${parsed.protocol}//)`);
  }
  if (!parsed.searchParams.has('heartbeat')) {
    parsed.searchParams.set('heartbeat', String(heartbeatSeconds));
  }
  return parsed.toString();
}

/** The URL as it may appear in logs and error messages: no password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
