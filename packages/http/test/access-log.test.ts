import { EventEmitter } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import { logAccess } from '../src/access-log';

/** A response that emits 'finish' on demand, with what logAccess reads. */
function fakeResponse(): Response & EventEmitter {
  return Object.assign(new EventEmitter(), {
    statusCode: 202,
    locals: { requestId: 'r-1', route: '/events' },
  }) as never;
}

describe('logAccess', () => {
  const request = { method: 'POST' } as Request;

  it('logs one debug line per answered request: method, route, status, duration, request id', () => {
    const debug = jest.fn();
    const res = fakeResponse();
    const next = jest.fn() as NextFunction;
    logAccess({ debug, enabled: () => true })(request, res, next);
    expect(next).toHaveBeenCalledTimes(1);
    expect(debug).not.toHaveBeenCalled(); // not before the answer
    res.emit('finish');
    expect(debug).toHaveBeenCalledWith('request', {
      requestId: 'r-1',
      method: 'POST',
      route: '/events',
      status: 202,
      durationMs: expect.any(Number),
    });
  });

  it('below debug, times nothing and listens for nothing', () => {
    const debug = jest.fn();
    const res = fakeResponse();
    const next = jest.fn() as NextFunction;
    logAccess({ debug, enabled: (level) => level !== 'debug' })(request, res, next);
    expect(next).toHaveBeenCalledTimes(1);
    expect(res.listenerCount('finish')).toBe(0);
    res.emit('finish');
    expect(debug).not.toHaveBeenCalled();
  });
});
