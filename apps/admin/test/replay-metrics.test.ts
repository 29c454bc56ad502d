import { Registry } from 'prom-client';
import { replayMetrics } from '../src/replay-metrics';

describe('replayMetrics', () => {
  it('counts the events walked, the rows enqueued and the events skipped of every batch', async () => {
    const registry = new Registry();
    const onBatch = replayMetrics(registry);
    onBatch({}, { held: true, matched: 10, enqueued: 18, skipped: 1, cursor: null });
    onBatch({}, { held: true, matched: 5, enqueued: 5, skipped: 0, cursor: null });
    const text = await registry.metrics();
    expect(text).toMatch(/^orchestron_replay_events_total 15$/m);
    expect(text).toMatch(/^orchestron_replay_enqueued_total 23$/m);
    expect(text).toMatch(/^orchestron_replay_skipped_total 1$/m);
  });
});
