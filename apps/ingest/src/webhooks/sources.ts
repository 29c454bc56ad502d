import type { ValueLocation, WebhookSourceConfig, WebhookSourcesConfig } from '@orchestron/config';
import { hmacVerifier } from './hmac';
import { standardWebhooksVerifier } from './standard-webhooks';
import { stripeVerifier } from './stripe';
import { VERIFIED, type Verifier } from './verifier';

/** A configured webhook sender, ready to verify and read its deliveries. */
export interface WebhookSource {
  /** The source name: the `:source` of the URL, and the stored events' source. */
  name: string;
  verify: Verifier;
  typeFrom: ValueLocation;
  /** Where the delivery id (the idempotency key) is; null when the sender has none. */
  idFrom: ValueLocation | null;
  unknownTypes: 'reject' | 'accept';
  staticFields: Record<string, string>;
}

export function verifierFor(config: WebhookSourceConfig): Verifier {
  switch (config.scheme) {
    case 'standard-webhooks':
      return standardWebhooksVerifier({ secrets: config.secrets, toleranceMs: config.tolerance });
    case 'stripe':
      return stripeVerifier({ secrets: config.secrets, toleranceMs: config.tolerance });
    case 'github':
    case 'hmac-sha256':
      if (!config.signature) throw new Error(`scheme ${config.scheme} needs signature settings`);
      return hmacVerifier({ secrets: config.secrets, signature: config.signature });
    case 'none':
      return () => VERIFIED;
  }
}

/** The sources of the `sources` config, by name (a Map: no lookup can reach a prototype). */
export function compileWebhookSources(config: WebhookSourcesConfig): ReadonlyMap<string, WebhookSource> {
  return new Map(
    Object.entries(config).map(([name, source]) => [
      name,
      {
        name,
        verify: verifierFor(source),
        typeFrom: source.type_from,
        idFrom: source.id_from,
        unknownTypes: source.unknown_types,
        staticFields: source.static_fields,
      },
    ]),
  );
}
