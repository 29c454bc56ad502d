import type { IncomingHttpHeaders } from 'node:http';
import { readBinaryEvent } from '../../src/cloudevents/binary';
import { locations, problemOf } from './problem-of';

const required = {
  'ce-specversion': '1.0',
  'ce-id': 'evt-1',
  'ce-source': '/sensors/1',
  'ce-type': 'sensor.reading',
};
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The event alone, for the tests that do not look at the decoded text. */
const parseBinaryEvent = (headers: IncomingHttpHeaders, body: Buffer) => readBinaryEvent(headers, body).event;

describe('parseBinaryEvent', () => {
  it('maps the ce-* headers to attributes, percent-decoded, and the JSON body to data', () => {
    const event = parseBinaryEvent(
      {
        ...required,
        'content-type': 'application/json; charset=utf-8',
        'ce-time': '2026-11-26T10:00:00.123+01:00',
        'ce-subject': 'Caf%C3%A9%20au%20lait',
        'ce-dataschema': 'https://schemas.example.com/reading.json',
        'ce-partitionkey': 'sensor-1',
        'ce-comexampleextension': '"quoted value"',
        'x-request-id': 'not an attribute',
      },
      json({ celsius: 21.5 }),
    );
    expect(event).toEqual({
      type: 'sensor.reading',
      data: { celsius: 21.5 },
      idempotencyKey: 'evt-1',
      source: '/sensors/1',
      time: '2026-11-26T10:00:00.123+01:00',
      schemaVersion: null,
      partitionKey: 'sensor-1',
      dataContentType: 'application/json; charset=utf-8',
      attributes: {
        id: 'evt-1',
        subject: 'Café au lait',
        dataschema: 'https://schemas.example.com/reading.json',
        comexampleextension: 'quoted value',
      },
      pointer: '',
      dataPointer: '',
      attributesIn: 'headers',
      dataPath: [],
    });
  });

  it('reads any +json media type as JSON', () => {
    expect(parseBinaryEvent({ ...required, 'content-type': 'application/vnd.x+json' }, json([1])).data).toEqual([1]);
  });

  it('gives JSON data the whole body as its path, with the decoded text; none to opaque bytes', () => {
    const text = '{"a": 12345678901234567890}';
    expect(readBinaryEvent({ ...required, 'content-type': 'application/json' }, Buffer.from(text))).toMatchObject({
      event: { dataPath: [] },
      text,
    });
    const opaque = readBinaryEvent({ ...required, 'content-type': 'text/plain' }, Buffer.from(text));
    expect(opaque.text).toBeUndefined();
    expect(opaque.event.dataPath).toBeUndefined();
    expect(readBinaryEvent(required, Buffer.alloc(0)).event.dataPath).toBeUndefined();
  });

  it('keeps data of any other media type as opaque bytes (base64)', () => {
    const body = Buffer.from([0x00, 0xff, 0x10]);
    const event = parseBinaryEvent({ ...required, 'content-type': 'application/octet-stream' }, body);
    expect(event).toMatchObject({
      data: body.toString('base64'),
      payloadEncoding: 'base64',
      dataContentType: 'application/octet-stream',
    });
    // Text is bytes too; a JSON body declared as text stays text.
    expect(parseBinaryEvent({ ...required, 'content-type': 'text/plain' }, json({ a: 1 }))).toMatchObject({
      data: json({ a: 1 }).toString('base64'),
      payloadEncoding: 'base64',
    });
  });

  it('takes an empty body as an event without data', () => {
    expect(parseBinaryEvent(required, Buffer.alloc(0))).toMatchObject({
      data: null,
      dataContentType: 'application/json',
    });
    expect(parseBinaryEvent({ ...required, 'content-type': 'text/plain' }, Buffer.alloc(0))).toMatchObject({
      data: '',
      payloadEncoding: 'base64',
    });
  });

  it('answers 415 when the data has no usable Content-Type', () => {
    for (const headers of [
      required,
      { ...required, 'content-type': 'json' },
      { ...required, 'content-type': 'application/json; charset=iso-8859-1' },
    ]) {
      expect(problemOf(() => parseBinaryEvent(headers, json({})))).toMatchObject({
        status: 415,
        slug: 'unsupported-media-type',
      });
    }
  });

  it('answers 400 malformed-json for a JSON body that does not parse', () => {
    const problem = problemOf(() =>
      parseBinaryEvent({ ...required, 'content-type': 'application/json' }, Buffer.from('{"a":')),
    );
    expect(problem).toMatchObject({ status: 400, slug: 'malformed-json' });
  });

  describe('rejects invalid attributes with 400, every problem with its header name', () => {
    const cases: Array<[string, Record<string, string>, string[]]> = [
      ['no required attribute', { 'ce-specversion': '1.0' }, ['ce-id', 'ce-source', 'ce-type']],
      ['another specversion', { ...required, 'ce-specversion': '0.3' }, ['ce-specversion']],
      ['a datacontenttype header', { ...required, 'ce-datacontenttype': 'application/json' }, ['ce-datacontenttype']],
      ['a data header', { ...required, 'ce-data': 'x' }, ['ce-data']],
      ['an invalid extension name', { ...required, 'ce-my_ext': 'x', 'ce-': 'y' }, ['ce-my_ext', 'ce-']],
      ['a broken percent-encoding', { ...required, 'ce-subject': '100%' }, ['ce-subject']],
      ['overlong UTF-8', { ...required, 'ce-id': '%C0%A0' }, ['ce-id']],
      ['a source with an encoded space', { ...required, 'ce-source': 'my%20source' }, ['ce-source']],
      ['a time that is not RFC 3339', { ...required, 'ce-time': 'yesterday' }, ['ce-time']],
    ];

    it.each(cases)('%s', (_name, headers, names) => {
      const problem = problemOf(() => parseBinaryEvent({ ...headers, 'content-type': 'application/json' }, json({})));
      expect(problem).toMatchObject({ status: 400, slug: 'invalid-cloudevent' });
      expect(locations(problem)).toEqual(names.map((n) => `header ${n}`));
    });
  });
});
