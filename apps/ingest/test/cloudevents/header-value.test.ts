import { decodeHeaderValue } from '../../src/cloudevents/header-value';

describe('decodeHeaderValue', () => {
  it('passes printable ASCII through unchanged', () => {
    expect(decodeHeaderValue('https://example.com/a?b=c')).toEqual({ ok: true, value: 'https://example.com/a?b=c' });
  });

  it('percent-decodes UTF-8, upper- or lower-case hex, as in the binding example', () => {
    expect(decodeHeaderValue('Euro%20%E2%82%AC%20%F0%9F%98%80')).toEqual({ ok: true, value: 'Euro € 😀' });
    expect(decodeHeaderValue('%e2%82%ac')).toEqual({ ok: true, value: '€' });
    expect(decodeHeaderValue('%41%42')).toEqual({ ok: true, value: 'AB' });
  });

  it('unquotes a double-quoted value before percent-decoding it', () => {
    expect(decodeHeaderValue('"a \\"quoted\\" value%21"')).toEqual({ ok: true, value: 'a "quoted" value!' });
    expect(decodeHeaderValue('"unterminated')).toMatchObject({ ok: false });
  });

  it('refuses a stray percent, invalid or overlong UTF-8 and unencoded non-ASCII characters', () => {
    expect(decodeHeaderValue('100%')).toMatchObject({ ok: false, message: expect.stringContaining('%') });
    expect(decodeHeaderValue('%zz')).toMatchObject({ ok: false });
    expect(decodeHeaderValue('%C0%A0')).toMatchObject({ ok: false, message: expect.stringContaining('UTF-8') });
    expect(decodeHeaderValue('%FF')).toMatchObject({ ok: false });
    expect(decodeHeaderValue('caf\u00e9')).toMatchObject({
      ok: false,
      message: expect.stringContaining('percent-encode'),
    });
  });

  it('keeps a leading byte order mark as the character it is', () => {
    expect(decodeHeaderValue('%EF%BB%BFx')).toEqual({ ok: true, value: '\ufeffx' });
  });
});
