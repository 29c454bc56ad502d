import type { Knex } from 'knex';

/** One counted attempt of an outbox row, as the relay recorded it. */
export interface RecordedAttempt {
  attempts: number;
  status: string;
  lastAttemptAt: Date;
  nextAttemptAt: Date;
  lastError: string | null;
}

/**
 * Records every change of an outbox row's attempt count (a trigger in the test's own
 * database), so a test sees each retry the relay scheduled, however quickly they follow each
 * other, without polling the row.
 */
export async function recordAttempts(db: Knex): Promise<void> {
  await db.raw(`
    create table if not exists outbox_attempt_history (
      outbox_id bigint not null,
      attempts int not null,
      status text not null,
      last_attempt_at timestamptz,
      next_attempt_at timestamptz,
      last_error text
    );
    create or replace function record_outbox_attempt() returns trigger language plpgsql as $$
    begin
      insert into outbox_attempt_history
      values (new.id, new.attempts, new.status, new.last_attempt_at, new.next_attempt_at, new.last_error);
      return new;
    end $$;
    drop trigger if exists outbox_attempt_history on outbox;
    create trigger outbox_attempt_history after update of attempts on outbox
      for each row when (new.attempts is distinct from old.attempts) execute function record_outbox_attempt();
  `);
}

/** The attempts recorded for the outbox row(s) of an event, in order. */
export async function attemptsOf(db: Knex, eventId: string): Promise<RecordedAttempt[]> {
  const rows = (await db('outbox_attempt_history as h')
    .join('outbox as o', 'o.id', 'h.outbox_id')
    .where('o.event_id', eventId)
    .orderBy('h.attempts')
    .select('h.*')) as Array<{
    attempts: number;
    status: string;
    last_attempt_at: Date;
    next_attempt_at: Date;
    last_error: string | null;
  }>;
  return rows.map((r) => ({
    attempts: r.attempts,
    status: r.status,
    lastAttemptAt: r.last_attempt_at,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
  }));
}

/** The outbox row of an event (its only one, with the default route). */
export async function outboxRowOf(db: Knex, eventId: string): Promise<{ status: string; attempts: number }> {
  return (await db('outbox').where({ event_id: eventId }).first('status', 'attempts')) as {
    status: string;
    attempts: number;
  };
}

/**
 * What departs from the relay's retry schedule in the recorded attempts of one row: attempt
 * k+1 (k = 0..maxRetries-1) is scheduled base * 2^k * [0.5, 1) after attempt k+1 was made,
 * so the gaps grow; no retry happens before it is due; the row is dead after the last
 * attempt. Empty when the history follows it.
 */
export function retryScheduleProblems(
  history: readonly RecordedAttempt[],
  schedule: { baseDelayMs: number; maxRetries: number },
): string[] {
  const problems: string[] = [];
  const attempts = history.map((h) => h.attempts);
  const expected = Array.from({ length: schedule.maxRetries + 1 }, (_, i) => i + 1);
  if (JSON.stringify(attempts) !== JSON.stringify(expected)) {
    problems.push(`attempts were ${attempts.join(',')}, expected ${expected.join(',')}`);
  }
  let previousGap = 0;
  history.forEach((h, k) => {
    const last = k === history.length - 1;
    if (h.status !== (last ? 'dead' : 'pending')) problems.push(`attempt ${h.attempts}: status ${h.status}`);
    if (last) return;
    const gap = h.nextAttemptAt.getTime() - h.lastAttemptAt.getTime();
    const ceiling = schedule.baseDelayMs * 2 ** k;
    // Timestamps come back with millisecond precision: allow a millisecond either way.
    if (gap < ceiling / 2 - 1 || gap > ceiling + 1) {
      problems.push(`attempt ${h.attempts}: retry scheduled ${gap} ms later, not ${ceiling / 2}-${ceiling} ms`);
    }
    if (gap <= previousGap) problems.push(`attempt ${h.attempts}: gap ${gap} ms did not grow (was ${previousGap})`);
    previousGap = gap;
    const next = history[k + 1];
    if (next && next.lastAttemptAt.getTime() < h.nextAttemptAt.getTime()) {
      problems.push(`attempt ${next.attempts} was made before it was due`);
    }
  });
  return problems;
}
