import { parseBatch, parseStructured } from '../../src/cloudevents/structured';
import { locations, problemOf } from './problem-of';

const minimal = { specversion: '1.0', id: 'evt-1', source: '/sensors/1', type: 'sensor.reading' };

describe('parseStructured', () => {
  it('maps every attribute of a structured CloudEvent onto the incoming event', () => {
    const event = parseStructured({
      specversion: '1.0',
      id: 'A234-1234-1234',
      source: 'https://github.com/org/repo',
      type: 'com.github.pull_request.opened',
      time: '2026-11-26T10:00:00Z',
      subject: 'pull/7',
      dataschema: 'https://schemas.example.com/pr.json',
      datacontenttype: 'application/json',
      partitionkey: 'repo-42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      comexampleothervalue: 5,
      comexampleflag: true,
      unsetextension: null,
      data: { number: 7 },
    });
    expect(event).toEqual({
      type: 'com.github.pull_request.opened',
      data: { number: 7 },
      idempotencyKey: 'A234-1234-1234',
      source: 'https://github.com/org/repo',
      time: '2026-11-26T10:00:00Z',
      schemaVersion: null,
      partitionKey: 'repo-42',
      dataContentType: 'application/json',
      attributes: {
        id: 'A234-1234-1234',
        subject: 'pull/7',
        dataschema: 'https://schemas.example.com/pr.json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        comexampleothervalue: '5',
        comexampleflag: 'true',
      },
      pointer: '',
      dataPointer: '/data',
      attributesIn: 'body',
      dataInString: false,
      dataPath: ['data'],
    });
  });

  it('accepts the usual kinds of source: URLs, absolute paths, URNs, mail addresses', () => {
    for (const source of [
      'https://github.com/org/repo',
      '/sensors/tn-1234567/alerts',
      'urn:x:y',
      'mailto:a@example.com',
    ]) {
      expect(parseStructured({ ...minimal, source, data: {} }).source).toBe(source);
    }
  });

  it('treats a missing datacontenttype as JSON and a missing data as JSON null', () => {
    const event = parseStructured(minimal);
    expect(event).toMatchObject({
      data: null,
      dataContentType: 'application/json',
      attributes: { id: 'evt-1' },
      partitionKey: null,
    });
  });

  it('keeps data of a non-JSON type, given as a string, as opaque bytes (base64)', () => {
    const event = parseStructured({ ...minimal, datacontenttype: 'text/xml', data: '<much wow="xml"/>' });
    expect(event).toMatchObject({
      data: Buffer.from('<much wow="xml"/>').toString('base64'),
      payloadEncoding: 'base64',
      dataContentType: 'text/xml',
    });
  });

  it('keeps data_base64 as opaque bytes, of type application/octet-stream when none is declared', () => {
    const bytes = Buffer.from([0, 1, 2, 250]);
    const event = parseStructured({ ...minimal, data_base64: bytes.toString('base64') });
    expect(event).toMatchObject({
      data: bytes.toString('base64'),
      payloadEncoding: 'base64',
      dataContentType: 'application/octet-stream',
      dataPointer: '/data_base64',
    });
  });

  it('parses data_base64 declared as JSON, so that its schema applies', () => {
    const event = parseStructured({
      ...minimal,
      datacontenttype: 'application/vnd.reading+json',
      data_base64: Buffer.from('{"celsius":21.5}').toString('base64'),
    });
    expect(event).toMatchObject({ data: { celsius: 21.5 }, dataInString: true, dataPointer: '/data_base64' });
    expect(event.payloadEncoding).toBeUndefined();
  });

  describe('rejects an invalid CloudEvent with 400, every problem with its JSON pointer', () => {
    const cases: Array<[string, unknown, string[]]> = [
      ['no required attribute', { data: {} }, ['/specversion', '/id', '/source', '/type']],
      ['another specversion', { ...minimal, specversion: '0.3' }, ['/specversion']],
      ['attributes of the wrong type', { ...minimal, id: 7, time: 1 }, ['/id', '/time']],
      ['an empty id', { ...minimal, id: '' }, ['/id']],
      ['an id over 200 characters', { ...minimal, id: 'x'.repeat(201) }, ['/id']],
      ['a source with spaces', { ...minimal, source: 'my source' }, ['/source']],
      ['a source over 200 characters', { ...minimal, source: `/${'s'.repeat(200)}` }, ['/source']],
      ['a type that cannot name a schema', { ...minimal, type: 'com example' }, ['/type']],
      ['a time that is not RFC 3339', { ...minimal, time: '26/11/2026' }, ['/time']],
      ['a relative dataschema', { ...minimal, dataschema: 'schemas/x.json' }, ['/dataschema']],
      ['a datacontenttype that is no media type', { ...minimal, datacontenttype: 'json' }, ['/datacontenttype']],
      ['an empty subject', { ...minimal, subject: '' }, ['/subject']],
      ['a control character in a string', { ...minimal, subject: 'a\u0000b' }, ['/subject']],
      ['a lone surrogate in an extension value', { ...minimal, comexample: 'a\ud800' }, ['/comexample']],
      [
        'invalid extension names',
        { ...minimal, MyExt: 'x', my_ext: 'y', waytoolongextensionname: 'z', 'a/b': 1 },
        ['/MyExt', '/my_ext', '/waytoolongextensionname', '/a~1b'],
      ],
      [
        'invalid extension values',
        { ...minimal, obj: { a: 1 }, arr: [1], frac: 1.5, big: 2 ** 31 },
        ['/obj', '/arr', '/frac', '/big'],
      ],
      ['an empty partitionkey', { ...minimal, partitionkey: '' }, ['/partitionkey']],
      ['both data and data_base64', { ...minimal, data: {}, data_base64: 'AA==' }, ['/data_base64']],
      ['data_base64 that is not base64', { ...minimal, data_base64: 'not base64!' }, ['/data_base64']],
      [
        'data_base64 declared JSON that is not',
        { ...minimal, datacontenttype: 'application/json', data_base64: Buffer.from('{').toString('base64') },
        ['/data_base64'],
      ],
      ['non-JSON data that is not a string', { ...minimal, datacontenttype: 'text/plain', data: { a: 1 } }, ['/data']],
      ['not an object', 'hello', ['']],
      ['an array', [minimal], ['']],
    ];

    it.each(cases)('%s', (_name, body, pointers) => {
      const problem = problemOf(() => parseStructured(body));
      expect(problem).toMatchObject({ status: 400, slug: 'invalid-cloudevent' });
      expect(locations(problem)).toEqual(pointers);
      for (const error of problem.errors ?? []) expect(error.message).not.toBe('');
    });
  });
});

describe('parseBatch', () => {
  it('parses every event of the batch, each with its own pointers', () => {
    const events = parseBatch([minimal, { ...minimal, id: 'evt-2', data: { a: 1 } }], 10);
    expect(events.map((e) => [e.idempotencyKey, e.pointer, e.dataPointer])).toEqual([
      ['evt-1', '/0', '/0/data'],
      ['evt-2', '/1', '/1/data'],
    ]);
  });

  it('gives JSON data its path in the body, to be stored from the text; none without data, nor for bytes', () => {
    const events = parseBatch(
      [
        { ...minimal, data: { a: 1 } },
        minimal,
        { ...minimal, id: 'evt-3', data: null },
        { ...minimal, id: 'evt-4', datacontenttype: 'text/plain', data: 'hello' },
        { ...minimal, id: 'evt-5', data_base64: Buffer.from('{"b":2}').toString('base64') },
      ],
      10,
    );
    expect(events.map((e) => e.dataPath)).toEqual([['0', 'data'], undefined, ['2', 'data'], undefined, undefined]);
  });

  it('lists the problems of every event of the batch', () => {
    const problem = problemOf(() => parseBatch([minimal, { ...minimal, id: undefined }, { ...minimal, type: '' }], 10));
    expect(problem).toMatchObject({ status: 400, slug: 'invalid-cloudevent' });
    expect(locations(problem)).toEqual(['/1/id', '/2/type']);
  });

  it('refuses an empty batch (400), a batch over the limit (413) and a body that is no array (400)', () => {
    expect(problemOf(() => parseBatch([], 10))).toMatchObject({ status: 400, slug: 'empty-batch' });
    expect(problemOf(() => parseBatch(new Array(11).fill(minimal), 10))).toMatchObject({
      status: 413,
      slug: 'batch-too-large',
    });
    expect(problemOf(() => parseBatch(minimal, 10))).toMatchObject({ status: 400, slug: 'invalid-cloudevent' });
  });
});
