import { ReturnCorrelator } from '../src/returns';

describe('ReturnCorrelator', () => {
  it('reports a returned message when its confirm arrives, and a routed one as routed', () => {
    const returns = new ReturnCorrelator();
    const routed = returns.expect('ex', 'a', 'id-1');
    const unroutable = returns.expect('ex', 'b', 'id-2');

    expect(returns.returned('ex', 'b', 'id-2', '312 NO_ROUTE')).toBe(true);

    expect(returns.settle(routed)).toBeNull();
    expect(returns.settle(unroutable)).toBe('312 NO_ROUTE');
    expect(returns.size).toBe(0);
  });

  it('tells apart copies of one event by exchange and routing key', () => {
    const returns = new ReturnCorrelator();
    const toA = returns.expect('a', 'rk', 'same-id');
    const toB = returns.expect('b', 'rk', 'same-id');

    returns.returned('b', 'rk', 'same-id', '312 NO_ROUTE');

    expect(returns.settle(toA)).toBeNull();
    expect(returns.settle(toB)).toBe('312 NO_ROUTE');
  });

  it('matches identical messages in publish order', () => {
    const returns = new ReturnCorrelator();
    const first = returns.expect('ex', 'rk', 'id');
    const second = returns.expect('ex', 'rk', 'id');

    returns.returned('ex', 'rk', 'id', 'first return');

    expect(returns.settle(first)).toBe('first return');
    expect(returns.settle(second)).toBeNull();
  });

  it('ignores a return nobody waits for, and settling twice', () => {
    const returns = new ReturnCorrelator();
    const ticket = returns.expect('ex', 'rk', 'id');
    expect(returns.settle(ticket)).toBeNull();
    expect(returns.settle(ticket)).toBeNull();
    expect(returns.returned('ex', 'rk', 'id', 'late')).toBe(false);
    expect(returns.size).toBe(0);
  });
});
