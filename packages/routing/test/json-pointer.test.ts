import { resolvePointer } from '../src';

describe('resolvePointer', () => {
  const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, __proto__: null };

  it('follows RFC 6901 pointers with escapes and array indexes', () => {
    expect(resolvePointer(doc, '')).toBe(doc);
    expect(resolvePointer(doc, '/a/b~1c/0')).toBe(10);
    expect(resolvePointer(doc, '/a/b~1c/1/d~0e')).toBe('x');
  });

  it('finds nothing where there is nothing, inherited properties included', () => {
    expect(resolvePointer(doc, '/a/b~1c/2')).toBeUndefined();
    expect(resolvePointer(doc, '/a/b~1c/01')).toBeUndefined();
    expect(resolvePointer({}, '/constructor')).toBeUndefined();
    expect(resolvePointer({ a: 'text' }, '/a/length')).toBeUndefined();
  });
});
