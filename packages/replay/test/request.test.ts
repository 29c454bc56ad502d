import { isBounded, parseReplayRequest, ReplayRequestError } from '../src/request';

const parse = (body: unknown) => parseReplayRequest(body, { maxRateLimit: 1_000 });

function problemsOf(body: unknown): readonly string[] {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof ReplayRequestError) return error.problems;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('parseReplayRequest', () => {
  it('reads a filter, a Kafka target, a rate limit and the dry-run flag', () => {
    const request = parse({
      filter: {
        sources: ['shop-*'],
        types: ['order.*', 'payment.*'],
        since: '2026-11-26T10:00:00Z',
        until: '2026-11-27T10:00:00Z',
      },
      target: { broker: 'kafka', topic: 'backfill.orders' },
      rate_limit: 200,
      dry_run: true,
    });
    expect(request).toEqual({
      filter: {
        sources: ['shop-*'],
        types: ['order.*', 'payment.*'],
        since: new Date('2026-11-26T10:00:00Z'),
        until: new Date('2026-11-27T10:00:00Z'),
      },
      target: { broker: 'kafka', destination: 'backfill.orders', routingKey: null },
      rateLimit: 200,
      dryRun: true,
      confirmCount: null,
    });
  });

  it('reads a RabbitMQ target with its routing key, and ids once each in lower case', () => {
    const id = '0193A0B0-0000-7000-8000-000000000001';
    expect(
      parse({
        filter: { ids: [id, id.toLowerCase()] },
        target: { broker: 'rabbitmq', exchange: 'x', routing_key: 'k' },
      }),
    ).toMatchObject({
      filter: { ids: [id.toLowerCase()] },
      target: { broker: 'rabbitmq', destination: 'x', routingKey: 'k' },
    });
  });

  it('takes an empty body as every event to the original routes, at the default rate', () => {
    expect(parse({})).toEqual({ filter: {}, target: null, rateLimit: null, dryRun: false, confirmCount: null });
  });

  it('lists every problem of a bad request at once, each with its field', () => {
    expect(
      problemsOf({
        filter: { sources: 'shop', since: 'yesterday', ids: ['not-a-uuid'], colour: 'red' },
        target: { broker: 'kafka', exchange: 'x' },
        rate_limit: 5_000,
        dry_run: 'yes',
        confirm_count: -1,
      }),
    ).toEqual([
      'filter.colour: unknown field (sources, types, since, until, ids)',
      'filter.sources: must be a list of 1 to 100 globs',
      'filter.since: must be an ISO 8601 time (2026-11-26T10:00:00Z) or a duration ago (24h, 7d)',
      'filter.ids: "not-a-uuid" is not an event id (a UUID)',
      'target.exchange: unknown field (broker, topic)',
      'target.topic: must be a topic name (letters, digits, . _ - : /)',
      'rate_limit: at most 1000 events per second (replay.max_rate_limit)',
      'dry_run: must be true or false',
      'confirm_count: must be an integer of at least 0',
    ]);
  });

  it('reads a time bound given as a duration back from now', () => {
    const now = new Date('2026-12-03T12:00:00Z');
    expect(parseReplayRequest({ filter: { since: '24h' } }, { maxRateLimit: 1, now }).filter).toEqual({
      since: new Date('2026-12-02T12:00:00Z'),
    });
  });

  it('refuses a time range that ends before it starts, and a body that is no object', () => {
    expect(problemsOf({ filter: { since: '2026-11-27', until: '2026-11-26' } })).toEqual([
      'filter.until: must be later than filter.since',
    ]);
    expect(problemsOf([])).toEqual(['the body must be a JSON object']);
  });
});

describe('isBounded', () => {
  it('counts ids or a start time as bounds, and an end time alone not', () => {
    expect(isBounded({ ids: ['x'] })).toBe(true);
    expect(isBounded({ since: new Date() })).toBe(true);
    expect(isBounded({ until: new Date() })).toBe(false);
    expect(isBounded({ sources: ['shop'], types: ['order.*'] })).toBe(false);
  });
});
