import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, redactConfig } from '../src';

function writeTemp(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestron-sources-'));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const SVIX_SECRET = `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}`;

describe('config key sources', () => {
  it('is an empty map by default', () => {
    expect(loadConfig({ env: {} }).sources).toEqual({});
  });

  it('loads every scheme from YAML, applies the scheme defaults and resolves env, file and literal secrets', () => {
    const secretFile = writeTemp('stripe-secret', 'whsec_from_file\n');
    const file = writeTemp(
      'sources.yaml',
      `sources:
  github:
    scheme: github
    secrets: [env:GITHUB_WEBHOOK_SECRET, env:GITHUB_WEBHOOK_SECRET_OLD]
    static_fields: {team: platform}
  stripe:
    scheme: stripe
    secrets: ["file:${secretFile}"]
    tolerance: 10m
    unknown_types: accept
  svix:
    scheme: standard-webhooks
    secrets: ["literal:${SVIX_SECRET}"]
  acme:
    scheme: hmac-sha256
    secrets: [env:ACME_SECRET]
    signature: {header: X-Acme-Signature, encoding: base64}
    type_from: {header: X-Acme-Event}
    id_from: {pointer: /delivery/id}
  open:
    scheme: none
`,
    );
    const env = { GITHUB_WEBHOOK_SECRET: 'new', GITHUB_WEBHOOK_SECRET_OLD: ' old\n', ACME_SECRET: 'acme' };
    const { sources } = loadConfig({ file, env });
    expect(sources.github).toEqual({
      scheme: 'github',
      secrets: ['new', 'old'],
      type_from: { header: 'X-GitHub-Event' },
      id_from: { header: 'X-GitHub-Delivery' },
      tolerance: 300_000,
      unknown_types: 'reject',
      static_fields: { team: 'platform' },
      signature: { header: 'X-Hub-Signature-256', encoding: 'hex', prefix: 'sha256=' },
    });
    expect(sources.stripe).toMatchObject({
      secrets: ['whsec_from_file'],
      type_from: { pointer: '/type' },
      id_from: { pointer: '/id' },
      tolerance: 600_000,
      unknown_types: 'accept',
    });
    expect(sources.svix).toMatchObject({
      secrets: [SVIX_SECRET],
      type_from: { pointer: '/type' },
      id_from: { header: 'webhook-id' },
    });
    expect(sources.acme).toMatchObject({
      signature: { header: 'X-Acme-Signature', encoding: 'base64', prefix: '' },
      type_from: { header: 'X-Acme-Event' },
      id_from: { pointer: '/delivery/id' },
    });
    expect(sources.open).toMatchObject({ scheme: 'none', secrets: [], id_from: null, signature: null });
  });

  it('takes the map as JSON from ORCHESTRON_SOURCES, which wins over the file', () => {
    const file = writeTemp('a.yaml', 'sources: {a: {scheme: none}}\n');
    const config = loadConfig({ file, env: { ORCHESTRON_SOURCES: '{"b": {"scheme": "none"}}' } });
    expect(Object.keys(config.sources)).toEqual(['b']);
  });

  it('lists every problem of every source with its path', () => {
    const file = writeTemp(
      'bad.yaml',
      `api: {rate_limit: -1}
sources:
  github:
    scheme: gitlab
    secrets: [plain-secret-in-the-file]
    type_from: {header: X-Event, pointer: /type}
    colour: blue
  stripe:
    scheme: stripe
    secrets: [env:A, env:B, env:C]
    tolerance: soon
    static_fields: {team: 42, request-id: x, ce-subject: y}
  acme:
    scheme: hmac-sha256
    secrets: [env:A]
    id_from: {pointer: type}
  open:
    scheme: none
    secrets: [env:A]
    tolerance: 1m
  "bad name":
    scheme: github
`,
    );
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'sources.github.scheme: must be one of standard-webhooks, github, stripe, hmac-sha256, none, not string "gitlab"',
        expect.stringMatching(/^sources\.github\.secrets\[0\]: must be a reference env:VAR_NAME or file:\/path/),
        expect.stringMatching(/^sources\.github\.type_from: must have exactly one of header, pointer/),
        expect.stringMatching(/^sources\.github\.colour: unknown setting/),
        expect.stringMatching(/^sources\.stripe\.secrets: must be a list of 1 or 2 references/),
        expect.stringMatching(/^sources\.stripe\.tolerance: /),
        expect.stringMatching(/^sources\.stripe\.static_fields\.team: must be a string/),
        expect.stringMatching(/^sources\.stripe\.static_fields\.request-id: is set by ingest itself/),
        expect.stringMatching(/^sources\.stripe\.static_fields\.ce-subject: is set by ingest itself/),
        expect.stringMatching(/^sources\.acme\.signature: is required for scheme hmac-sha256/),
        expect.stringMatching(/^sources\.acme\.id_from\.pointer: must be a JSON pointer/),
        'sources.open.secrets: scheme none verifies nothing and takes no secrets',
        'sources.open.tolerance: scheme none signs no timestamp; remove tolerance',
        expect.stringMatching(/^sources\.bad name: a source name is/),
        expect.stringMatching(/^sources\.bad name\.secrets: is required/),
        expect.stringMatching(/^api\.rate_limit: /),
      ]),
    );
    expect(problems).toHaveLength(16);
    expect(problems.join('\n')).not.toContain('plain-secret-in-the-file');
  });

  it('reports a missing or unreadable secret and a malformed Standard Webhooks secret as config errors', () => {
    const file = writeTemp(
      'secrets.yaml',
      `sources:
  github: {scheme: github, secrets: [env:NOT_SET, "file:/nonexistent/secret"]}
  svix: {scheme: standard-webhooks, secrets: ["literal:not base64!"]}
`,
    );
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual([
      'sources.github.secrets[0]: env:NOT_SET: the environment variable is not set',
      'sources.github.secrets[1]: file:/nonexistent/secret: cannot read the file: ENOENT',
      'sources.svix.secrets[0]: the secret from literal: is not a Standard Webhooks secret (whsec_<base64>)',
    ]);
  });

  it('masks the secrets when the configuration is redacted', () => {
    const config = loadConfig({
      env: { ORCHESTRON_SOURCES: '{"gh": {"scheme": "github", "secrets": ["env:S"]}}', S: 'top-secret' },
    });
    const redacted = redactConfig(config);
    expect(redacted.sources.gh?.secrets).toEqual(['[redacted]']);
    expect(JSON.stringify(redacted)).not.toContain('top-secret');
    expect(config.sources.gh?.secrets).toEqual(['top-secret']);
  });
});
