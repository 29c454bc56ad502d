import type { Knex } from 'knex';
import type { OrchestronConfig } from '@orchestron/config';
import {
  DEAD_LETTER_BATCH_SIZE,
  discardDeadLettersInBatches,
  listDeadLetters,
  listEveryDeadLetter,
  replayDeadLettersInBatches,
  type DeadLetterDetail,
  type DeadLetterFilter,
  type DeadLetterRecord,
  narrowsSelection,
} from '@orchestron/db';
import { deadLetterFilter, limitOf, type DeadLetterArgs } from '../dead-letter-args';
import { cliDatabase } from '../cli-database';
import type { Output } from '../output';
import { cell, formatTable } from '../table';
import { UsageError } from '../usage-error';

/** Lines a bulk action lists in text mode before summarising the rest (--json lists them all). */
const TEXT_LINES = 50;

export const DLQ_USAGE = `usage: orchestron dlq list|show|replay|discard [filters] [--limit N] [--dry-run] [--json]

  list                 dead letters matching the filters, oldest first (default --limit 100)
  show [ID...]         the same in full, with the event's headers and payload
  replay               put matching dead letters back into the outbox (new pending rows; relays are notified)
  discard              mark matching dead letters discarded (needs a filter, or --all for every one)

filters (all given must match):
  --id ID[,ID...]      dead-letter ids
  --destination NAME   topic or exchange
  --type GLOB          event type, * matches any run of characters ('order.*')
  --source NAME        event source
  --since T, --until T dead-lettered at or after / before T: an ISO time or a duration ago (24h, 7d)
  --error TEXT         the error contains TEXT (case-insensitive)
  --status S           dead (default), replayed or discarded; replay and discard take only dead ones

replay and discard act on every match (up to --limit), one transaction per batch of ${DEAD_LETTER_BATCH_SIZE};
--dry-run prints what they would do and changes nothing.`;

/** `orchestron dlq list|show|replay|discard`: inspect and act on the dead-letter queue. */
export async function dlq(
  config: OrchestronConfig,
  action: string | undefined,
  positionalIds: readonly string[],
  args: DeadLetterArgs,
  out: Output,
): Promise<void> {
  if (!['list', 'show', 'replay', 'discard'].includes(action ?? '')) {
    throw new UsageError(action ? `unknown dlq action "${action}"` : 'dlq needs an action');
  }
  if (positionalIds.length > 0 && action !== 'show') {
    throw new UsageError(`dlq ${action} takes no arguments, only options (--id ID)`);
  }
  const filter = deadLetterFilter(args, positionalIds);
  // Looking at given ids: show them whatever became of them, unless a status is asked for.
  if (action === 'show' && filter.ids && args.status === undefined) delete filter.status;
  const db = cliDatabase(config, out);
  try {
    switch (action) {
      case 'list':
        return await list(db, filter, limitOf(args, 100), out);
      case 'show':
        return await show(db, filter, limitOf(args, 100), out);
      case 'replay':
      case 'discard':
        return await act(db, action, filter, args, out);
    }
  } finally {
    await db.destroy();
  }
}

async function list(db: Knex, filter: DeadLetterFilter, limit: number, out: Output): Promise<void> {
  const rows = await listDeadLetters(db, filter, { limit: limit + 1 });
  const shown = rows.slice(0, limit);
  out.result(shown.map(recordJson), () => {
    if (shown.length === 0) return `no dead letters with status ${filter.status ?? 'dead'} match`;
    const table = formatTable(
      ['ID', 'DEAD-LETTERED', 'STATUS', 'BROKER', 'DESTINATION', 'TYPE', 'SOURCE', 'ATTEMPTS', 'ERROR'],
      shown.map((r) => [
        String(r.id),
        r.createdAt.toISOString(),
        r.status,
        r.broker,
        r.destination,
        r.type,
        r.source,
        String(r.attempts),
        cell(r.error),
      ]),
    );
    return rows.length > limit
      ? `${table}\n(first ${limit} shown; more match: narrow the filters or raise --limit)`
      : table;
  });
}

async function show(db: Knex, filter: DeadLetterFilter, limit: number, out: Output): Promise<void> {
  const rows = await listDeadLetters(db, filter, { limit, includeEvent: true });
  out.result(rows.map(detailJson), () =>
    rows.length === 0
      ? `no dead letters with status ${filter.status ?? 'dead'} match`
      : rows.map(detailText).join('\n\n'),
  );
}

/** Replay or discard everything that matches, batch by batch, or with --dry-run only say what. */
async function act(
  db: Knex,
  action: 'replay' | 'discard',
  filter: DeadLetterFilter,
  args: DeadLetterArgs,
  out: Output,
): Promise<void> {
  if (filter.status !== 'dead') {
    throw new UsageError(`only dead letters with status dead can be ${action === 'replay' ? 'replayed' : 'discarded'}`);
  }
  if (action === 'discard' && !narrowsSelection(filter) && !args.all) {
    throw new UsageError(
      'dlq discard needs a filter (--id, --destination, --type, ...) or --all to discard every dead letter',
    );
  }
  const limit = limitOf(args, Number.MAX_SAFE_INTEGER);
  const verb = action === 'replay' ? 'replay' : 'discard';
  if (args['dry-run']) {
    const matching = await listEveryDeadLetter(db, filter, limit);
    const wouldKey = action === 'replay' ? 'wouldReplay' : 'wouldDiscard';
    out.result({ dryRun: true, [wouldKey]: matching.length, items: matching.map(recordJson) }, () =>
      [
        `dry run: would ${verb} ${matching.length} dead letter(s); nothing was changed`,
        ...capped(
          matching.map(
            (r) => `  ${r.id}  ${r.type} from ${r.source} -> ${r.broker} ${r.destination}  ${cell(r.error, 60)}`,
          ),
        ),
      ].join('\n'),
    );
    return;
  }

  if (action === 'replay') {
    const replayed = await replayDeadLettersInBatches(db, filter, { limit });
    out.result({ replayed: replayed.length, items: replayed }, () =>
      [
        `replayed ${replayed.length} dead letter(s) into the outbox`,
        ...capped(replayed.map((r) => `  ${r.id} -> outbox row ${r.outboxId}  (${r.broker} ${r.destination})`)),
      ].join('\n'),
    );
  } else {
    const discarded = await discardDeadLettersInBatches(db, filter, { limit });
    out.result({ discarded: discarded.length, items: discarded }, () =>
      [
        `discarded ${discarded.length} dead letter(s)`,
        ...capped(discarded.map((r) => `  ${r.id}  (event ${r.eventId}, ${r.destination})`)),
      ].join('\n'),
    );
  }
}

function capped(lines: string[]): string[] {
  return lines.length > TEXT_LINES
    ? [...lines.slice(0, TEXT_LINES), `  … and ${lines.length - TEXT_LINES} more (--json lists them all)`]
    : lines;
}

function recordJson(r: DeadLetterRecord): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    eventId: r.eventId,
    type: r.type,
    source: r.source,
    broker: r.broker,
    destination: r.destination,
    routingKey: r.routingKey,
    partitionKey: r.partitionKey,
    error: r.error,
    attempts: r.attempts,
    firstAttemptAt: r.firstAttemptAt,
    lastAttemptAt: r.lastAttemptAt,
    deadLetteredAt: r.createdAt,
    outboxId: r.outboxId,
    replayedAt: r.replayedAt,
    replayedOutboxId: r.replayedOutboxId,
    discardedAt: r.discardedAt,
  };
}

function detailJson(r: DeadLetterDetail): Record<string, unknown> {
  return {
    ...recordJson(r),
    receivedAt: r.receivedAt,
    headers: r.headers,
    // Stored as jsonb, so the text always parses; null in the database means encrypted at rest.
    payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown),
    ...(r.payload === null ? { payloadEncrypted: true } : {}),
  };
}

function detailText(r: DeadLetterDetail): string {
  const line = (label: string, value: string): string => `  ${label.padEnd(14)}${value}`;
  const lines = [
    `dead letter ${r.id} (${r.status})`,
    line('event', `${r.eventId}  ${r.type} from ${r.source}, received ${r.receivedAt.toISOString()}`),
    line(
      'destination',
      `${r.broker} ${r.destination}${r.routingKey ? `, routing key ${r.routingKey}` : ''}${
        r.partitionKey !== null ? `, partition key ${r.partitionKey}` : ''
      }`,
    ),
    line(
      'attempts',
      `${r.attempts}, first ${r.firstAttemptAt?.toISOString() ?? '-'}, last ${r.lastAttemptAt.toISOString()}`,
    ),
    line('dead-lettered', `${r.createdAt.toISOString()} (outbox row ${r.outboxId})`),
    line('error', r.error),
  ];
  if (r.replayedAt) lines.push(line('replayed', `${r.replayedAt.toISOString()} into outbox row ${r.replayedOutboxId}`));
  if (r.discardedAt) lines.push(line('discarded', r.discardedAt.toISOString()));
  lines.push(line('headers', JSON.stringify(r.headers)));
  lines.push(line('payload', r.payload ?? '(encrypted at rest; not shown)'));
  return lines.join('\n');
}
