import { uuidv7 } from '../src/uuid';

describe('uuidv7', () => {
  it('makes RFC 9562 version 7 ids that sort by creation', () => {
    const ids = Array.from({ length: 5_000 }, () => uuidv7());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the millisecond timestamp in the first 48 bits', () => {
    const id = uuidv7(Date.UTC(2030, 0, 1));
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(Date.UTC(2030, 0, 1));
  });
});
