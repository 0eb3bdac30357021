/**
 * CloudEvents HTTP binary-mode headers (CloudEvents HTTP protocol binding 1.0, §3.1) for a
 * delivery whose JSON body stays the Nylas-shaped notification: CloudEvents tooling reads the
 * event's attributes from these headers and the body as its data, Nylas receivers read the
 * body as they always have.
 */
export interface CloudEventAttributes {
  specversion: string;
  id: string;
  type: string;
  source: string;
  /** Unix seconds (the Nylas body's form); the header carries RFC 3339. */
  time: number;
  data?: Record<string, unknown>;
}

export function cloudEventHeaders(e: CloudEventAttributes): Record<string, string> {
  const headers: Record<string, string> = {
    'ce-specversion': e.specversion,
    'ce-id': e.id,
    'ce-type': e.type,
    'ce-source': e.source,
    'ce-time': new Date(e.time * 1000).toISOString(),
  };
  const grantId = e.data?.grant_id;
  if (typeof grantId === 'string' && grantId) headers['ce-subject'] = grantId;
  return headers;
}

/**
 * One event of a CloudEvents batched-mode body (JSON event format, `application/cloudevents-batch+json`):
 * the attributes the binary-mode headers carry, and as `data` the same JSON body a single delivery
 * has, so both modes hand CloudEvents tooling the same event.
 */
export function structuredCloudEvent(e: CloudEventAttributes): Record<string, unknown> {
  const grantId = e.data?.grant_id;
  return {
    specversion: e.specversion,
    id: e.id,
    type: e.type,
    source: e.source,
    time: new Date(e.time * 1000).toISOString(),
    ...(typeof grantId === 'string' && grantId ? { subject: grantId } : {}),
    datacontenttype: 'application/json',
    data: e,
  };
}
