import { schemaState } from '../src/schema-check';

const shipped = ['20261126000001_a.js', '20261126000002_b.js', '20261126000003_c.js'];

describe('schemaState', () => {
  it('is current when every shipped migration is applied', () => {
    expect(schemaState(shipped, shipped)).toEqual({
      current: true,
      at: '20261126000003',
      needs: '20261126000003',
      missing: [],
      reason: null,
    });
  });

  it('stays current when a newer build has applied more than this one ships', () => {
    expect(schemaState([...shipped, '20261203000001_d.js'], shipped)).toMatchObject({
      current: true,
      at: '20261203000001',
    });
  });

  it('names the applied and the needed version when the database is behind', () => {
    expect(schemaState(shipped.slice(0, 2), shipped)).toMatchObject({
      current: false,
      missing: ['20261126000003_c.js'],
      reason: 'database schema at 20261126000002, this build needs 20261126000003: run `orchestron migrate latest`',
    });
  });

  it('says the schema is missing when knex_migrations does not exist, and when it is empty', () => {
    expect(schemaState(null, shipped).reason).toBe(
      'database has no schema (knex_migrations is missing), this build needs 20261126000003: run `orchestron migrate latest`',
    );
    expect(schemaState([], shipped).reason).toMatch(/^database has no migrations applied, this build needs/);
  });

  it('names a missing migration below the newest applied one', () => {
    expect(schemaState([shipped[0]!, shipped[2]!], shipped)).toMatchObject({
      current: false,
      reason:
        'database schema at 20261126000003 (not applied: 20261126000002_b.js), this build needs 20261126000003: run `orchestron migrate latest`',
    });
  });
});
