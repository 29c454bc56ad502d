import type { ReceivedMessage } from '@orchestron/broker';

/**
 * One message as `orchestron tail` prints it: a JSON object on one line. The payload is
 * embedded as JSON when it parses as JSON, whatever the content type says (that is what
 * Orchestron publishes); anything else is given as `payloadBase64`, byte for byte.
 */
export function tailLine(message: ReceivedMessage): string {
  const base = {
    id: message.id,
    type: message.type,
    source: message.source,
    time: message.time?.toISOString() ?? null,
    contentType: message.contentType,
    key: message.key,
    routingKey: message.routingKey,
    headers: message.headers,
  };
  const json = parseJson(message.payload);
  return JSON.stringify(
    json.ok ? { ...base, payload: json.value } : { ...base, payloadBase64: message.payload.toString('base64') },
  );
}

function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (payload.length === 0) return { ok: false };
  try {
    // fatal: bytes that are not UTF-8 are not JSON text, even if replacing them would parse.
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as unknown };
  } catch {
    return { ok: false };
  }
}
