import { randomBytes } from 'node:crypto';

/**
 * The multipart/mixed format of Google's batch endpoint: each part is `Content-Type:
 * application/http` with an HTTP request line, headers and an empty line; answers come back
 * in the same order, each as an HTTP response with `Content-ID: response-<id>`.
 */
export interface BatchPart {
  contentId: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

export function parseBatch(body: string, boundary: string): BatchPart[] {
  const out: BatchPart[] = [];
  for (const chunk of body.split(`--${boundary}`)) {
    const text = chunk.replace(/^\r?\n/, '');
    if (!text.trim() || text.startsWith('--')) continue;
    const [outer = '', inner = ''] = splitOnce(text, /\r?\n\r?\n/);
    const contentId = /content-id:\s*<?([^>\r\n]+)>?/i.exec(outer)?.[1] ?? String(out.length + 1);
    const [head = ''] = splitOnce(inner, /\r?\n\r?\n/);
    const lines = head.split(/\r?\n/);
    const [method = 'GET', path = '/'] = (lines[0] ?? '').split(' ');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    out.push({ contentId, method: method.toUpperCase(), path: path.replace(/^https?:\/\/[^/]+/, ''), headers });
  }
  return out;
}

function splitOnce(s: string, re: RegExp): [string, string] {
  const m = re.exec(s);
  return m ? [s.slice(0, m.index), s.slice(m.index + m[0].length)] : [s, ''];
}

const REASONS: Record<number, string> = { 200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error' };

export function renderBatch(answers: { contentId: string; status: number; headers: Record<string, string>; body: string }[]): { boundary: string; body: string } {
  const boundary = `batch_${randomBytes(9).toString('base64url')}`;
  const parts = answers.map((a) =>
    [
      `--${boundary}`,
      'Content-Type: application/http',
      `Content-ID: <response-${a.contentId}>`,
      '',
      `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? ''}`,
      ...Object.entries(a.headers).map(([k, v]) => `${k}: ${v}`),
      `Content-Length: ${Buffer.byteLength(a.body)}`,
      '',
      a.body,
    ].join('\r\n'),
  );
  return { boundary, body: `${parts.join('\r\n')}\r\n--${boundary}--\r\n` };
}
