import { hmacSha256, matchesAny, rejected, VERIFIED, type Verifier } from './verifier';

export interface HmacSignature {
  /** The header carrying the signature, e.g. X-Hub-Signature-256. */
  header: string;
  encoding: 'hex' | 'base64';
  /** Text before the encoded signature, e.g. "sha256="; '' for none. */
  prefix: string;
}

/**
 * An HMAC-SHA256 of the raw body in one header: the generic scheme, and GitHub's
 * (`X-Hub-Signature-256: sha256=<hex>`, which signs no timestamp).
 */
export function hmacVerifier(options: { secrets: readonly string[]; signature: HmacSignature }): Verifier {
  const { header, encoding, prefix } = options.signature;
  return (delivery) => {
    const value = delivery.header(header)?.trim();
    if (!value) return rejected(`the ${header} header is required`);
    if (value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) {
      return rejected(`${header} must start with ${prefix}`);
    }
    const given = Buffer.from(value.slice(prefix.length), encoding);
    const expected = options.secrets.map((secret) => hmacSha256(secret, delivery.body));
    return matchesAny(expected, [given]) ? VERIFIED : rejected('no signature matches');
  };
}
