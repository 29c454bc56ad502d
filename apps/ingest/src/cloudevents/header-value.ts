const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type DecodedHeader = { ok: true; value: string } | { ok: false; message: string };

/**
 * The attribute value of a `ce-*` header, decoded as the CloudEvents HTTP binding (3.1.3.2)
 * says: a double-quoted value is unquoted (backslash escapes), then one round of
 * percent-decoding; the decoded bytes must be valid UTF-8 (overlong forms included, e.g.
 * `%C0%A0`, are refused). Unencoded characters outside printable ASCII, space and tab are
 * refused too: the binding requires senders to percent-encode them.
 */
export function decodeHeaderValue(raw: string): DecodedHeader {
  let text = raw.trim();
  if (text.startsWith('"')) {
    const quoted = /^"((?:[^"\\]|\\.)*)"$/s.exec(text);
    if (!quoted) return { ok: false, message: 'has an unterminated quoted string' };
    text = (quoted[1] as string).replace(/\\(.)/gs, '$1');
  }
  if (/[^\x20-\x7e\t]/.test(text)) {
    return { ok: false, message: 'must percent-encode characters outside printable ASCII' };
  }
  if (!text.includes('%')) return { ok: true, value: text };
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, message: 'has a "%" that starts no percent-encoded byte' };
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return { ok: true, value: utf8.decode(Uint8Array.from(bytes)) };
  } catch {
    return { ok: false, message: 'percent-encodes bytes that are not valid UTF-8' };
  }
}
