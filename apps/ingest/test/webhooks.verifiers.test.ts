import { createHmac } from 'node:crypto';
import { sign as signGithub } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { hmacVerifier } from '../src/webhooks/hmac';
import { verifierFor } from '../src/webhooks/sources';
import { standardWebhooksVerifier } from '../src/webhooks/standard-webhooks';
import { stripeVerifier } from '../src/webhooks/stripe';
import { matchesAny, timestampProblem, type SignedDelivery } from '../src/webhooks/verifier';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const NOW_S = NOW / 1000;
const FIVE_MINUTES = 5 * 60_000;
const BODY = '{"id":"evt_1","type":"invoice.paid","data":{"amount":1200}}';

function delivery(headers: Record<string, string>, body: string | Buffer = BODY): SignedDelivery {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { header: (name) => lower[name.toLowerCase()], body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

/** The body with one byte changed. */
function tampered(body = BODY): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x01;
  return bytes;
}

describe('matchesAny', () => {
  it('matches equal buffers and treats a different length as a mismatch', () => {
    const a = Buffer.alloc(32, 1);
    expect(matchesAny([a], [Buffer.alloc(32, 1)])).toBe(true);
    expect(matchesAny([a], [Buffer.alloc(31, 1)])).toBe(false);
    expect(matchesAny([a], [Buffer.alloc(0)])).toBe(false);
    expect(matchesAny([Buffer.alloc(32, 2), a], [Buffer.alloc(32, 3), Buffer.alloc(32, 1)])).toBe(true);
  });
});

describe('timestampProblem', () => {
  it('accepts timestamps within the tolerance either side of now', () => {
    expect(timestampProblem(String(NOW_S - 299), NOW, FIVE_MINUTES)).toBeUndefined();
    expect(timestampProblem(String(NOW_S + 299), NOW, FIVE_MINUTES)).toBeUndefined();
  });

  it('rejects timestamps too old, too far in the future, or not a number', () => {
    expect(timestampProblem(String(NOW_S - 301), NOW, FIVE_MINUTES)).toMatch(/too old/);
    expect(timestampProblem(String(NOW_S + 301), NOW, FIVE_MINUTES)).toMatch(/future/);
    expect(timestampProblem('12a', NOW, FIVE_MINUTES)).toMatch(/not a number/);
    expect(timestampProblem('', NOW, FIVE_MINUTES)).toMatch(/not a number/);
  });
});

describe('standardWebhooksVerifier', () => {
  const secret = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
  const rotated = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`;
  const verify = standardWebhooksVerifier({ secrets: [secret, rotated], toleranceMs: FIVE_MINUTES });

  function signed(withSecret: string, at = new Date(NOW), id = 'msg_1', body = BODY): Record<string, string> {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(withSecret).sign(id, at, body),
    };
  }

  it('accepts a delivery signed by the standardwebhooks library with either secret', () => {
    expect(verify(delivery(signed(secret)), NOW)).toEqual({ ok: true });
    expect(verify(delivery(signed(rotated)), NOW)).toEqual({ ok: true });
  });

  it('accepts a header listing several signatures when one matches', () => {
    const headers = signed(secret);
    headers['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} v2,abc ${headers['webhook-signature']}`;
    expect(verify(delivery(headers), NOW)).toEqual({ ok: true });
  });

  it('rejects a wrong secret, a changed byte, a changed id and missing headers', () => {
    const other = `whsec_${Buffer.from('c'.repeat(32)).toString('base64')}`;
    expect(verify(delivery(signed(other)), NOW)).toEqual({ ok: false, reason: 'no signature matches' });
    expect(verify(delivery(signed(secret), tampered()), NOW).ok).toBe(false);
    expect(verify(delivery({ ...signed(secret), 'webhook-id': 'msg_2' }), NOW).ok).toBe(false);
    const { 'webhook-signature': _dropped, ...unsigned } = signed(secret);
    expect(verify(delivery(unsigned), NOW)).toEqual({ ok: false, reason: expect.stringMatching(/required/) });
    expect(verify(delivery({ ...signed(secret), 'webhook-signature': 'v1' }), NOW).ok).toBe(false);
  });

  it('rejects timestamps outside the tolerance, old or in the future', () => {
    const old = signed(secret, new Date(NOW - 10 * 60_000));
    const future = signed(secret, new Date(NOW + 10 * 60_000));
    expect(verify(delivery(old), NOW)).toEqual({ ok: false, reason: expect.stringMatching(/too old/) });
    expect(verify(delivery(future), NOW)).toEqual({ ok: false, reason: expect.stringMatching(/future/) });
  });
});

describe('stripeVerifier', () => {
  const secret = 'whsec_test_one';
  const rotated = 'whsec_test_two';
  const verify = stripeVerifier({ secrets: [secret, rotated], toleranceMs: FIVE_MINUTES });
  const header = (withSecret: string, timestamp = NOW_S, payload = BODY) => ({
    'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: withSecret, timestamp }),
  });

  it('accepts a delivery signed by the stripe library with either secret', () => {
    expect(verify(delivery(header(secret)), NOW)).toEqual({ ok: true });
    expect(verify(delivery(header(rotated)), NOW)).toEqual({ ok: true });
  });

  it('accepts several v1 signatures when one matches and ignores other schemes', () => {
    const good = header(secret)['Stripe-Signature'];
    const v1 = good.split(',v1=')[1] as string;
    expect(verify(delivery({ 'Stripe-Signature': `t=${NOW_S},v0=abc,v1=${'0'.repeat(64)},v1=${v1}` }), NOW)).toEqual({
      ok: true,
    });
  });

  it('rejects a wrong secret, a changed byte, a malformed or missing header', () => {
    expect(verify(delivery(header('whsec_other')), NOW).ok).toBe(false);
    expect(verify(delivery(header(secret), tampered()), NOW).ok).toBe(false);
    expect(verify(delivery({ 'Stripe-Signature': `t=${NOW_S}` }), NOW).ok).toBe(false);
    expect(verify(delivery({ 'Stripe-Signature': 'v1=abc' }), NOW).ok).toBe(false);
    expect(verify(delivery({}), NOW)).toEqual({ ok: false, reason: expect.stringMatching(/required/) });
  });

  it('rejects a signed timestamp outside the tolerance, old or in the future', () => {
    expect(verify(delivery(header(secret, NOW_S - 600)), NOW).ok).toBe(false);
    expect(verify(delivery(header(secret, NOW_S + 600)), NOW).ok).toBe(false);
  });

  it('rejects a signature of another timestamp than the one in the header', () => {
    const good = header(secret)['Stripe-Signature'];
    expect(verify(delivery({ 'Stripe-Signature': good.replace(`t=${NOW_S}`, `t=${NOW_S + 1}`) }), NOW).ok).toBe(false);
  });
});

describe('GitHub (hmacVerifier with X-Hub-Signature-256)', () => {
  const verify = verifierFor({
    scheme: 'github',
    secrets: ['gh-secret-1', 'gh-secret-2'],
    type_from: { header: 'X-GitHub-Event' },
    id_from: { header: 'X-GitHub-Delivery' },
    tolerance: FIVE_MINUTES,
    unknown_types: 'reject',
    static_fields: {},
    signature: { header: 'X-Hub-Signature-256', encoding: 'hex', prefix: 'sha256=' },
  });

  it('accepts a delivery signed by @octokit/webhooks-methods with either secret', async () => {
    expect(verify(delivery({ 'X-Hub-Signature-256': await signGithub('gh-secret-1', BODY) }), NOW)).toEqual({
      ok: true,
    });
    expect(verify(delivery({ 'X-Hub-Signature-256': await signGithub('gh-secret-2', BODY) }), NOW)).toEqual({
      ok: true,
    });
  });

  it('rejects a wrong secret, a changed byte, a truncated signature or a missing header', async () => {
    const good = await signGithub('gh-secret-1', BODY);
    expect(verify(delivery({ 'X-Hub-Signature-256': await signGithub('other', BODY) }), NOW).ok).toBe(false);
    expect(verify(delivery({ 'X-Hub-Signature-256': good }, tampered()), NOW).ok).toBe(false);
    expect(verify(delivery({ 'X-Hub-Signature-256': good.slice(0, -2) }), NOW).ok).toBe(false);
    expect(verify(delivery({ 'X-Hub-Signature-256': good.replace('sha256=', '') }), NOW).ok).toBe(false);
    expect(verify(delivery({ 'X-Hub-Signature': good }), NOW)).toEqual({
      ok: false,
      reason: 'the X-Hub-Signature-256 header is required',
    });
  });
});

describe('hmacVerifier (generic)', () => {
  const digest = (secret: string, body: string, encoding: 'hex' | 'base64') =>
    createHmac('sha256', secret).update(body).digest(encoding);

  it('checks a base64 signature without prefix', () => {
    const verify = hmacVerifier({ secrets: ['k1'], signature: { header: 'X-Sig', encoding: 'base64', prefix: '' } });
    expect(verify(delivery({ 'X-Sig': digest('k1', BODY, 'base64') }), NOW)).toEqual({ ok: true });
    expect(verify(delivery({ 'X-Sig': digest('k2', BODY, 'base64') }), NOW).ok).toBe(false);
    expect(verify(delivery({ 'X-Sig': digest('k1', BODY, 'base64') }, tampered()), NOW).ok).toBe(false);
  });

  it('checks a hex signature after its prefix, in any letter case', () => {
    const verify = hmacVerifier({
      secrets: ['k1', 'k2'],
      signature: { header: 'X-Sig', encoding: 'hex', prefix: 'sha256=' },
    });
    expect(verify(delivery({ 'X-Sig': `sha256=${digest('k2', BODY, 'hex')}` }), NOW)).toEqual({ ok: true });
    expect(verify(delivery({ 'X-Sig': `SHA256=${digest('k1', BODY, 'hex').toUpperCase()}` }), NOW)).toEqual({
      ok: true,
    });
    expect(verify(delivery({ 'X-Sig': digest('k1', BODY, 'hex') }), NOW)).toEqual({
      ok: false,
      reason: 'X-Sig must start with sha256=',
    });
    expect(verify(delivery({ 'X-Sig': 'sha256=zz' }), NOW).ok).toBe(false);
  });
});

describe('scheme none', () => {
  it('accepts anything', () => {
    const verify = verifierFor({
      scheme: 'none',
      secrets: [],
      type_from: { pointer: '/type' },
      id_from: null,
      tolerance: FIVE_MINUTES,
      unknown_types: 'reject',
      static_fields: {},
      signature: null,
    });
    expect(verify(delivery({}), NOW)).toEqual({ ok: true });
  });
});
