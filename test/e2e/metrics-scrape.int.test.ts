import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  amqpUrl,
  createTestDatabase,
  REPO_ROOT,
  startApp,
  type AppProcess,
  type TestDatabase,
} from '@orchestron/testing';
import { postEvents, signup, uniqueName } from './harness';

// Both apps' /metrics as Prometheus scrapes them: valid by `promtool check metrics` (the
// exposition format and Prometheus' naming conventions), the Node.js defaults under their
// standard names, and label values from bounded sets whatever senders put in their events.

let database: TestDatabase;
const running: AppProcess[] = [];

/** promtool from scripts/promtool.sh; a missing one fails the test (set ORCHESTRON_SKIP_PROMTOOL=1 to skip, never in CI). */
function promtool(): string | null {
  try {
    return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'promtool.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
    }).trim();
  } catch (error) {
    if (process.env.ORCHESTRON_SKIP_PROMTOOL === '1' && process.env.CI !== 'true') {
      process.stderr.write(
        `\n!!! promtool unavailable, its check is SKIPPED (ORCHESTRON_SKIP_PROMTOOL=1): ${String(error)}\n\n`,
      );
      return null;
    }
    throw new Error(`scripts/promtool.sh found no promtool: ${String(error)}`);
  }
}

async function scrape(app: AppProcess): Promise<string> {
  return (await fetch(`${app.url}/metrics`)).text();
}

beforeAll(async () => {
  database = await createTestDatabase('e2e_metrics_scrape');
});

afterAll(async () => {
  await Promise.all(running.map((app) => app.kill()));
  await database.drop();
});

describe('the metrics scrape', () => {
  it('passes promtool check metrics for ingest and relay, with standard process and Node.js names', async () => {
    const tool = promtool();
    const exchange = uniqueName('orchestron_metrics');
    const env = { DATABASE_URL: database.url, AMQP_URL: amqpUrl(), ORCHESTRON_ROUTING_DEFAULT_EXCHANGE: exchange };
    const ingest = await startApp('ingest', { ...env, ORCHESTRON_API_REQUIRE_API_KEY: 'false' });
    running.push(ingest);
    const relay = await startApp('relay', { ...env, ORCHESTRON_OUTBOX_STATS_INTERVAL: '1s' });
    running.push(relay);
    expect((await postEvents(ingest.url, signup(1))).status).toBe(202);

    for (const app of [ingest, relay]) {
      const text = await scrape(app);
      expect(text).toMatch(/^process_resident_memory_bytes\{/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{/m);
      expect(text).not.toMatch(/^orchestron_(process|nodejs)_/m);
      if (tool) {
        const check = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect({ status: check.status, problems: `${check.stdout}${check.stderr}` }).toEqual({
          status: 0,
          problems: '',
        });
      }
    }
  });

  it('counts sources and types a sender made up as other, and keeps known ones by name', async () => {
    const ingest = await startApp('ingest', {
      DATABASE_URL: database.url,
      ORCHESTRON_API_REQUIRE_API_KEY: 'false',
      ORCHESTRON_API_RATE_LIMIT: '0',
      ORCHESTRON_SCHEMAS_ACCEPT_UNKNOWN_TYPES_FROM: '*',
      ORCHESTRON_SOURCES: JSON.stringify({ shop: { scheme: 'none' } }),
    });
    running.push(ingest);
    const made = ['a', 'b', 'c'].map((n) => uniqueName(`made_up_${n}`));
    for (const [i, source] of made.entries()) {
      expect((await postEvents(ingest.url, signup(i, { source }))).status).toBe(202);
      expect((await postEvents(ingest.url, { type: uniqueName('made.up'), source, data: {} })).status).toBe(202);
    }
    expect((await postEvents(ingest.url, signup(9))).status).toBe(202);
    const webhook = await fetch(`${ingest.url}/webhooks/shop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'user.signed_up', user_id: 'u1', email: 'a@example.com' }),
    });
    expect(webhook.status).toBeLessThan(500);

    const received = (await scrape(ingest))
      .split('\n')
      .filter((line) => line.startsWith('orchestron_events_received_total{'));
    for (const name of made) expect(received.join('\n')).not.toContain(name);
    expect(received.join('\n')).not.toContain('made.up');
    const value = (labels: string) =>
      Number(
        received
          .find((line) => line.includes(labels))
          ?.split(' ')
          .pop() ?? NaN,
      );
    // Three made-up sources with a known type, three with a made-up one.
    expect(value('source="other",type="user.signed_up",outcome="accepted"')).toBe(3);
    expect(value('source="other",type="other",outcome="accepted"')).toBe(3);
    expect(value('source="default",type="user.signed_up",outcome="accepted"')).toBe(1);
    expect(received.join('\n')).toContain('source="shop"');
  });
});
