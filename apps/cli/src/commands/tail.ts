import type { BrokerLogger, Subscription } from '@orchestron/broker';
import type { OrchestronConfig } from '@orchestron/config';
import { createConsumer } from '../create-consumer';
import { tailLine } from '../tail-line';
import { durationMs } from '../time-bound';
import { UsageError } from '../usage-error';

export const TAIL_USAGE = `usage: orchestron tail DESTINATION [--broker kafka|rabbitmq] [--max N] [--timeout DURATION]
                      [--group ID] [--from-beginning]              (Kafka)
                      [--binding-key KEY] [--queue NAME]           (RabbitMQ)

Prints what reaches DESTINATION (a Kafka topic or a RabbitMQ exchange), one JSON line per
message: id, type, source, time, contentType, key, routingKey, headers, and payload (as JSON
when it parses, else payloadBase64). Progress and errors go to stderr.

  --broker             default broker.type
  --max N              stop after N messages
  --timeout DURATION   stop after this long (30s, 5m); exit status 1 if --max was not reached
  --group ID           Kafka consumer group (offsets are committed); default a fresh one
  --from-beginning     Kafka: start at the earliest offset instead of the latest
  --binding-key KEY    RabbitMQ binding of the tail queue to the exchange; default '#'
  --queue NAME         RabbitMQ durable queue of that name; default an exclusive auto-delete one`;

export interface TailArgs {
  broker?: string;
  group?: string;
  'from-beginning'?: boolean;
  'binding-key'?: string;
  queue?: string;
  max?: string;
  timeout?: string;
}

/** Where tail writes; process.stdout and process.stderr, or a test double. */
export interface TailIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: TailIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

type StopReason = 'max' | 'timeout' | 'signal';

/**
 * `orchestron tail`: subscribes to a destination and prints each message as it arrives until
 * --max messages, --timeout, or SIGINT/SIGTERM; then leaves cleanly (the subscription is
 * cancelled, a fresh Kafka group or an auto-delete queue leaves nothing behind). Resolves
 * with the exit status.
 */
export async function tail(
  config: OrchestronConfig,
  destination: string | undefined,
  args: TailArgs,
  io: TailIo = processIo,
): Promise<number> {
  const options = tailOptions(config, destination, args);
  const logger = stderrLogger(io);
  const consumer = createConsumer(options.broker, config.broker, logger, {
    prefetch:
      options.max === null ? undefined : Math.min(options.max, config.broker.rabbitmq.prefetch_count || options.max),
  });

  let finish: (reason: StopReason) => void = () => undefined;
  const stopped = new Promise<StopReason>((resolve) => (finish = resolve));
  const onSignal = (): void => finish('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = options.timeoutMs === null ? null : setTimeout(() => finish('timeout'), options.timeoutMs);

  let printed = 0;
  let subscription: Subscription | null = null;
  try {
    const subscribing = consumer.subscribe(
      {
        destination: options.destination,
        ...(options.broker === 'kafka'
          ? { group: args.group, fromBeginning: args['from-beginning'] === true }
          : { group: args.queue, bindingKey: args['binding-key'] ?? '#' }),
      },
      (message) => {
        if (options.max !== null && printed >= options.max) return;
        io.stdout(`${tailLine(message)}\n`);
        printed++;
        if (options.max !== null && printed >= options.max) finish('max');
      },
    );
    // A signal or the timeout while the subscription is still being set up ends it too.
    const first = await Promise.race([subscribing.then(() => null), stopped]);
    subscription = await subscribing.catch((error: unknown) => {
      if (first !== null) return null;
      throw error;
    });
    if (first === null) {
      io.stderr(`orchestron: tailing ${describe(options, args)}; Ctrl-C to stop\n`);
    }
    const reason = first ?? (await stopped);
    if (reason === 'timeout' && options.max !== null && printed < options.max) {
      io.stderr(`orchestron: timed out after ${args.timeout} with ${printed} of ${options.max} message(s)\n`);
      return 1;
    }
    return 0;
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await subscription?.stop();
    await consumer.close();
  }
}

interface TailOptions {
  broker: 'kafka' | 'rabbitmq';
  destination: string;
  max: number | null;
  timeoutMs: number | null;
}

function tailOptions(config: OrchestronConfig, destination: string | undefined, args: TailArgs): TailOptions {
  if (!destination) throw new UsageError('tail needs a DESTINATION (a topic or an exchange)');
  const broker = args.broker ?? config.broker.type;
  if (broker !== 'kafka' && broker !== 'rabbitmq') {
    throw new UsageError(`--broker: "${broker}" is neither kafka nor rabbitmq`);
  }
  if (broker === 'kafka' && (args.queue !== undefined || args['binding-key'] !== undefined)) {
    throw new UsageError('--queue and --binding-key are RabbitMQ options; Kafka uses --group and --from-beginning');
  }
  if (broker === 'rabbitmq' && (args.group !== undefined || args['from-beginning'])) {
    throw new UsageError(
      '--group and --from-beginning are Kafka options; on RabbitMQ use --queue NAME for a durable queue (a queue holds only what arrived after it was bound)',
    );
  }
  let max: number | null = null;
  if (args.max !== undefined) {
    if (!/^\d+$/.test(args.max) || Number(args.max) < 1)
      throw new UsageError(`--max: "${args.max}" is not a positive integer`);
    max = Number(args.max);
  }
  let timeoutMs: number | null = null;
  if (args.timeout !== undefined) {
    timeoutMs = durationMs(args.timeout) ?? (/^\d+$/.test(args.timeout) ? Number(args.timeout) : null);
    if (timeoutMs === null || timeoutMs <= 0) {
      throw new UsageError(`--timeout: "${args.timeout}" is not a duration such as 30s or 5m`);
    }
  }
  return { broker, destination, max, timeoutMs };
}

function describe(options: TailOptions, args: TailArgs): string {
  if (options.broker === 'kafka') {
    return `Kafka topic "${options.destination}" (${args.group ? `group ${args.group}` : 'a fresh group'}, from ${
      args['from-beginning'] ? 'the beginning' : 'now on'
    })`;
  }
  return `RabbitMQ exchange "${options.destination}" (binding key "${args['binding-key'] ?? '#'}", ${
    args.queue ? `durable queue ${args.queue}` : 'exclusive auto-delete queue'
  })`;
}

/** Warnings and errors of the adapters, as plain lines on stderr; stdout stays pure JSON lines. */
function stderrLogger(io: TailIo): BrokerLogger {
  const line =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void =>
      io.stderr(
        `orchestron: ${level}: ${message}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ''}\n`,
      );
  return { error: line('error'), warn: line('warning'), info: () => undefined, debug: () => undefined };
}
