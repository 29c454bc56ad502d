import { contentModeOf } from '../../src/cloudevents/content-mode';
import { problemOf } from './problem-of';

const modeOf = (headers: Record<string, string>) => contentModeOf((name) => headers[name]);

describe('contentModeOf', () => {
  it('recognises structured and batch mode by the CloudEvents JSON media types, charset utf-8 allowed', () => {
    expect(modeOf({ 'content-type': 'application/cloudevents+json' })).toBe('structured');
    expect(modeOf({ 'content-type': 'Application/CloudEvents+JSON; charset=UTF-8' })).toBe('structured');
    expect(modeOf({ 'content-type': 'application/cloudevents-batch+json; charset="utf-8"' })).toBe('batch');
  });

  it('takes a structured Content-Type over ce-* headers that come with it', () => {
    expect(modeOf({ 'content-type': 'application/cloudevents+json', 'ce-specversion': '1.0' })).toBe('structured');
  });

  it('is binary mode with a ce-specversion header, whatever the data media type', () => {
    expect(modeOf({ 'content-type': 'application/json', 'ce-specversion': '1.0' })).toBe('binary');
    expect(modeOf({ 'content-type': 'text/plain', 'ce-specversion': '1.0' })).toBe('binary');
    expect(modeOf({ 'ce-specversion': '1.0' })).toBe('binary');
  });

  it('leaves everything else to the native envelope', () => {
    expect(modeOf({ 'content-type': 'application/json' })).toBe('native');
    expect(modeOf({ 'content-type': 'text/plain' })).toBe('native');
    expect(modeOf({})).toBe('native');
  });

  it('answers 415 for other event formats and for charsets other than UTF-8', () => {
    for (const contentType of [
      'application/cloudevents+avro',
      'application/cloudevents-batch+protobuf',
      'application/cloudevents+json; charset=iso-8859-1',
    ]) {
      const problem = problemOf(() => modeOf({ 'content-type': contentType }));
      expect(problem).toMatchObject({ status: 415, slug: 'unsupported-media-type' });
    }
  });
});
