import type { MessageAttribute, PublishInput } from './topics.js';

/**
 * The Query protocol's shapes: form fields flattened with dots (`MessageAttributes.entry.1.Name`,
 * `PublishBatchRequestEntries.member.2.Id`), answers as XML in the 2010-03-31 namespace.
 */
export type Params = Map<string, string>;

export const parseForm = (body: string): Params => new Map(new URLSearchParams(body));

/** `prefix.1.…`, `prefix.2.…` → one Params per index, keys without the prefix. */
export function members(p: Params, prefix: string): Params[] {
  const byIndex = new Map<number, Params>();
  for (const [k, v] of p) {
    if (!k.startsWith(`${prefix}.`)) continue;
    const rest = k.slice(prefix.length + 1);
    const dot = rest.indexOf('.');
    const index = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(index)) continue;
    const m = byIndex.get(index) ?? new Map<string, string>();
    m.set(dot < 0 ? '' : rest.slice(dot + 1), v);
    byIndex.set(index, m);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
}

export function messageAttributes(p: Params): Record<string, MessageAttribute> {
  const out: Record<string, MessageAttribute> = {};
  for (const e of members(p, 'MessageAttributes.entry')) {
    const name = e.get('Name');
    if (!name) continue;
    const a: MessageAttribute = { DataType: e.get('Value.DataType') ?? '' };
    const s = e.get('Value.StringValue');
    const b = e.get('Value.BinaryValue');
    if (s !== undefined) a.StringValue = s;
    if (b !== undefined) a.BinaryValue = b;
    out[name] = a;
  }
  return out;
}

export function publishInput(p: Params): PublishInput {
  const m: PublishInput = { MessageAttributes: messageAttributes(p) };
  for (const k of ['Message', 'Subject', 'MessageGroupId', 'MessageDeduplicationId'] as const) {
    const v = p.get(k);
    if (v !== undefined) m[k] = v;
  }
  return m;
}

export function topicAttributes(p: Params): Record<string, string> {
  return Object.fromEntries(members(p, 'Attributes.entry').map((e) => [e.get('key') ?? '', e.get('value') ?? '']));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** `{ a: 'x', list: [{…}] }` (a pre-rendered string result is used as is) → `<a>x</a><list><member>…</member></list>`. */
export function xml(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${xml(v)}</member>`).join('');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => (v === undefined ? '' : `<${k}>${xml(v)}</${k}>`)).join('');
  return esc(String(value));
}

export const resultXml = (action: string, result: unknown, requestId: string) =>
  `<?xml version="1.0"?>\n<${action}Response xmlns="${NS}"><${action}Result>${typeof result === 'string' ? result : xml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;

export const errorXml = (code: string, message: string, sender: boolean, requestId: string) =>
  `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${sender ? 'Sender' : 'Receiver'}</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;

/** Topic attributes answer as `<entry><key>…</key><value>…</value></entry>`. */
export const entriesXml = (attrs: Record<string, string>) => Object.entries(attrs).map(([key, value]) => `<entry><key>${esc(key)}</key><value>${esc(value)}</value></entry>`).join('');
