import { hmacSha256, matchesAny, rejected, timestampProblem, VERIFIED, type Verifier } from './verifier';

/** The HMAC key of a Standard Webhooks secret: the bytes of `whsec_<base64>`'s base64 part. */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/**
 * Standard Webhooks (standardwebhooks.com, used by Svix and others): headers `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64>` entries; the signed content is `${id}.${timestamp}.${body}`.
 */
export function standardWebhooksVerifier(options: { secrets: readonly string[]; toleranceMs: number }): Verifier {
  const keys = options.secrets.map(standardWebhooksKey);
  return (delivery, nowMs) => {
    const id = delivery.header('webhook-id');
    const timestamp = delivery.header('webhook-timestamp');
    const signature = delivery.header('webhook-signature');
    if (!id || !timestamp || !signature) {
      return rejected('the webhook-id, webhook-timestamp and webhook-signature headers are required');
    }
    const stale = timestampProblem(timestamp, nowMs, options.toleranceMs);
    if (stale) return rejected(stale);
    const given = signature
      .split(' ')
      .map((entry) => entry.split(','))
      .filter(([version, value]) => version === 'v1' && value)
      .map(([, value]) => Buffer.from(value as string, 'base64'));
    if (given.length === 0) return rejected('webhook-signature holds no v1 signature');
    const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), delivery.body]);
    return matchesAny(
      keys.map((key) => hmacSha256(key, signed)),
      given,
    )
      ? VERIFIED
      : rejected('no signature matches');
  };
}
