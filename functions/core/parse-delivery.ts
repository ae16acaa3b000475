export type ParsedDelivery =
  | { ok: true; event: string; deliveryId: string; payload: Record<string, unknown> }
  | { ok: false; status: 400 | 415; error: string };

/**
 * GitHub sends the same payload as `application/json` or, when the hook's content type is "form", as
 * `application/x-www-form-urlencoded` with the JSON in a `payload` field.
 */
export function parseDelivery(body: string, headers: Readonly<Record<string, string | undefined>>): ParsedDelivery {
  const event = headers['x-github-event'];
  const deliveryId = headers['x-github-delivery'];
  if (!event) return { ok: false, status: 400, error: 'X-GitHub-Event header is missing' };
  if (!deliveryId) return { ok: false, status: 400, error: 'X-GitHub-Delivery header is missing' };
  const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let json: string;
  if (mediaType === 'application/json') {
    json = body;
  } else if (mediaType === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(body).get('payload');
    if (payload === null) return { ok: false, status: 400, error: 'form-encoded body has no payload field' };
    json = payload;
  } else {
    return {
      ok: false,
      status: 415,
      error: `content type ${mediaType ? `"${mediaType}"` : '(none)'} is not supported: set the webhook's content type to application/json`,
    };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    // V8's message quotes the start of the input; answer with the position only, never the payload.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    return { ok: false, status: 400, error: `body is not valid JSON${position ? ` (error at position ${position})` : ''}` };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { ok: false, status: 400, error: 'body is JSON but not an object, as GitHub payloads are' };
  }
  return { ok: true, event, deliveryId, payload: payload as Record<string, unknown> };
}
