import { hmacSha256, matchesAny, rejected, timestampProblem, VERIFIED, type Verifier } from './verifier';

/**
 * Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>...]`, each v1 the HMAC-SHA256
 * of `${t}.${body}` keyed with the endpoint secret (`whsec_...`, used as is). Other schemes
 * in the header (v0, test signatures) are ignored.
 */
export function stripeVerifier(options: { secrets: readonly string[]; toleranceMs: number }): Verifier {
  return (delivery, nowMs) => {
    const header = delivery.header('stripe-signature');
    if (!header) return rejected('the Stripe-Signature header is required');
    let timestamp: string | undefined;
    const given: Buffer[] = [];
    for (const item of header.split(',')) {
      const separator = item.indexOf('=');
      if (separator < 0) continue;
      const key = item.slice(0, separator).trim();
      const value = item.slice(separator + 1).trim();
      if (key === 't') timestamp ??= value;
      if (key === 'v1') given.push(Buffer.from(value, 'hex'));
    }
    if (timestamp === undefined || given.length === 0) {
      return rejected('Stripe-Signature must hold a timestamp t= and at least one v1= signature');
    }
    const stale = timestampProblem(timestamp, nowMs, options.toleranceMs);
    if (stale) return rejected(stale);
    const expected = options.secrets.map((secret) => hmacSha256(secret, `${timestamp}.`, delivery.body));
    return matchesAny(expected, given) ? VERIFIED : rejected('no signature matches');
  };
}
