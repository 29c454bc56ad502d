import { userInfo } from 'node:os';
import type { Knex } from 'knex';
import type { OrchestronConfig } from '@orchestron/config';
import { createDatabase, listReplays, type ReplayRecord, type ReplayStatus } from '@orchestron/db';
import {
  cancelVisibleReplay,
  createReplayStore,
  getReplay,
  listVisibleReplays,
  parseReplayRequest,
  ReplayConfirmationError,
  ReplayFinishedError,
  ReplayNotFoundError,
  ReplayRequestError,
  ReplayRunner,
  replayJson,
  requestReplay,
  type ReplayActor,
} from '@orchestron/replay';
import { replayRequestBody, type ReplayArgs } from '../replay-args';
import type { Output } from '../output';
import { formatTable } from '../table';
import { UsageError } from '../usage-error';

export const REPLAY_USAGE = `usage: orchestron replay start|status|cancel|run [options] [--json]

  start [filters] [target] [--rate N] [--dry-run] [--confirm-count N]
                       re-publish stored events as a durable, paced job (the admin app's
                       runner, or \`replay run\`, runs it); prints its id
  status [ID]          one replay's progress, or the latest replays (--status, --limit)
  cancel ID            stop a queued or running replay at its next batch
  run                  run queued replays in this process until none is left (where no admin app runs)

filters (all given must match; the replay ends at the time of the request unless --until says):
  --source GLOB[,GLOB] event sources, * matches any run of characters
  --type GLOB[,GLOB]   event types ('order.*')
  --since T, --until T received at or after / before T: an ISO time or a duration ago (24h, 7d)
  --id ID[,ID...]      event ids
target (default: each event's original routes, as its outbox rows recorded them):
  --broker kafka|rabbitmq --destination TOPIC|EXCHANGE [--routing-key KEY]

--dry-run prints how many events the replay would take and changes nothing. A replay without
--id and --since takes every stored event: it starts only with --confirm-count set to that
count (see the dry run).`;

/** The command runs with the database's own rights: unscoped, named after the user. */
function cliActor(): ReplayActor {
  return { name: `cli:${userInfo().username}`, scope: { sources: ['*'], types: ['*'] } };
}

/** `orchestron replay start|status|cancel|run`. */
export async function replay(
  config: OrchestronConfig,
  action: string | undefined,
  positionals: readonly string[],
  args: ReplayArgs & { status?: string; limit?: string },
  out: Output,
): Promise<void> {
  if (!['start', 'status', 'cancel', 'run'].includes(action ?? '')) throw new UsageError(REPLAY_USAGE);
  const db = createDatabase({ ...config.database, max_connections: action === 'run' ? 4 : 1 }, 'orchestron-cli');
  try {
    switch (action) {
      case 'start':
        return await start(db, config, args, out);
      case 'status':
        return await status(db, positionals[0], args, out);
      case 'cancel':
        if (!positionals[0]) throw new UsageError(`replay cancel needs the replay's id\n\n${REPLAY_USAGE}`);
        return await cancel(db, positionals[0], out);
      case 'run':
        return await run(db, config, out);
    }
  } catch (error) {
    // Refusals are the operator's to fix: said plainly, exit code 2, nothing changed.
    if (
      error instanceof ReplayRequestError ||
      error instanceof ReplayConfirmationError ||
      error instanceof ReplayNotFoundError ||
      error instanceof ReplayFinishedError
    ) {
      throw new UsageError(error.message);
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

async function start(db: Knex, config: OrchestronConfig, args: ReplayArgs, out: Output): Promise<void> {
  const request = parseReplayRequest(replayRequestBody(args), { maxRateLimit: config.replay.max_rate_limit });
  const result = await requestReplay(db, request, cliActor(), { defaultRateLimit: config.replay.default_rate_limit });
  if (result.dryRun) {
    const { events, withoutOriginalRoute } = result.count;
    out.result(
      { dry_run: true, count: events, without_original_route: withoutOriginalRoute, until: result.filter.until },
      () =>
        [
          `dry run: the replay would take ${events} event(s) received before ${result.filter.until?.toISOString()}; nothing was changed`,
          ...(request.target === null && withoutOriginalRoute > 0
            ? [
                `  ${withoutOriginalRoute} of them have no original route left and would be skipped (name a --destination)`,
              ]
            : []),
        ].join('\n'),
    );
    return;
  }
  out.result(replayJson(result.replay), () =>
    [
      `replay ${result.replay.id} queued: ${result.replay.total} event(s) at up to ${result.replay.rateLimit}/s`,
      `  follow it with: orchestron replay status ${result.replay.id}`,
    ].join('\n'),
  );
}

const STATUSES: readonly ReplayStatus[] = ['queued', 'running', 'completed', 'cancelled', 'failed'];

async function status(
  db: Knex,
  id: string | undefined,
  args: { status?: string; limit?: string },
  out: Output,
): Promise<void> {
  if (id !== undefined) {
    const found = await getReplay(db, id, cliActor());
    out.result(replayJson(found), () => detailText(found));
    return;
  }
  if (args.status !== undefined && !STATUSES.includes(args.status as ReplayStatus)) {
    throw new UsageError(`--status: "${args.status}" is not one of ${STATUSES.join(', ')}`);
  }
  const limit = args.limit === undefined ? 20 : Number(args.limit);
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new UsageError(`--limit: "${args.limit}" is not a positive integer`);
  const replays = await listVisibleReplays(db, cliActor(), {
    limit,
    ...(args.status ? { status: args.status as ReplayStatus } : {}),
  });
  out.result(replays.map(replayJson), () =>
    replays.length === 0
      ? 'no replays'
      : formatTable(
          ['ID', 'STATUS', 'CREATED', 'BY', 'PROGRESS', 'ENQUEUED', 'RATE'],
          replays.map((r) => [
            r.id,
            r.status,
            r.createdAt.toISOString(),
            r.requestedBy,
            `${r.matched}/${r.total}`,
            String(r.enqueued),
            `${r.rateLimit}/s`,
          ]),
        ),
  );
}

function detailText(r: ReplayRecord): string {
  const line = (label: string, value: string): string => `  ${label.padEnd(10)}${value}`;
  const shown = replayJson(r);
  return [
    `replay ${r.id} (${r.status})`,
    line('by', `${r.requestedBy}, ${shown.created_at}`),
    line('filter', JSON.stringify(shown.filter)),
    line('target', shown.target ? JSON.stringify(shown.target) : 'the original routes'),
    line(
      'progress',
      `${r.matched} of ${r.total} event(s) walked, ${r.enqueued} message(s) enqueued, ${r.skipped} skipped`,
    ),
    line('rate', `${r.rateLimit} events/s`),
    ...(r.startedAt ? [line('started', shown.started_at ?? '')] : []),
    ...(r.finishedAt ? [line('finished', shown.finished_at ?? '')] : []),
    ...(r.cancelledBy ? [line('cancelled', `by ${r.cancelledBy}`)] : []),
    ...(r.error ? [line('error', r.error)] : []),
  ].join('\n');
}

async function cancel(db: Knex, id: string, out: Output): Promise<void> {
  const cancelled = await cancelVisibleReplay(db, id, cliActor());
  out.result(
    replayJson(cancelled),
    () => `replay ${id} cancelled after ${cancelled.matched} of ${cancelled.total} event(s)`,
  );
}

/** Runs replays here until none is queued or running; SIGINT/SIGTERM stop it (the replay resumes later). */
async function run(db: Knex, config: OrchestronConfig, out: Output): Promise<void> {
  const log = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ level, message, ...meta })}\n`);
  const runner = new ReplayRunner({
    store: createReplayStore(db),
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    batchSize: config.replay.batch_size,
    concurrency: Math.max(1, config.replay.concurrency),
    pollInterval: config.replay.poll_interval,
    lease: config.replay.lease,
    maxPending: config.replay.max_pending,
  });
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  runner.start();
  try {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, config.replay.poll_interval)));
      if (interrupted) break;
      const [queued] = await listReplays(db, { status: 'queued' }, { limit: 1 });
      const [running] = await listReplays(db, { status: 'running' }, { limit: 1 });
      if (!queued && !running) break;
    }
  } finally {
    await runner.stop(config.replay.lease);
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
  out.info(interrupted ? 'stopped; unfinished replays resume at the next run' : 'no replay left to run');
}
