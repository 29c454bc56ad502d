import { ConfigError, loadConfig, parseHeapThreshold } from '../src';

describe('health keys', () => {
  it('default to a 1s event-loop delay and 90% of the heap limit', () => {
    const config = loadConfig({ env: {} });
    expect(config.health).toEqual({ max_event_loop_lag: 1_000, max_heap_used: { fraction: 0.9 } });
  });

  it('take the heap threshold as a percentage or as a size', () => {
    expect(loadConfig({ env: { ORCHESTRON_HEALTH_MAX_HEAP_USED: '75%' } }).health.max_heap_used).toEqual({
      fraction: 0.75,
    });
    expect(loadConfig({ env: { ORCHESTRON_HEALTH_MAX_HEAP_USED: '400MB' } }).health.max_heap_used).toEqual({
      bytes: 400 * 1024 * 1024,
    });
    expect(loadConfig({ env: { ORCHESTRON_HEALTH_MAX_EVENT_LOOP_LAG: '250ms' } }).health.max_event_loop_lag).toBe(250);
  });

  it('refuse percentages outside 0..100 and anything that is no size', () => {
    for (const value of ['0%', '150%', 'lots']) {
      expect(() => parseHeapThreshold(value)).toThrow();
      expect(() => loadConfig({ env: { ORCHESTRON_HEALTH_MAX_HEAP_USED: value } })).toThrow(ConfigError);
    }
  });
});
