/**
 * A self-contained API reference page rendered on the server from the OpenAPI document: no
 * scripts, no CDN, so it works offline and under a strict CSP.
 */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
}

interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths?: Record<
    string,
    Record<
      string,
      {
        summary?: string;
        description?: string;
        tags?: string[];
        parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema }[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
      }
    >
  >;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A short, readable type: `string`, `integer`, `"a" | "b"`, `string[]`, `object`. */
function typeOf(s: JsonSchema | undefined): string {
  if (!s) return '';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  return Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
}

function fields(schema: JsonSchema | undefined): string {
  const props = Object.entries(schema?.properties ?? {});
  if (props.length === 0) return '';
  const required = new Set(schema?.required ?? []);
  const rows = props
    .map(([name, p]) => `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <small>required</small>' : ''}</td><td><code>${esc(typeOf(p))}</code></td><td>${esc(p.description ?? '')}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>body field</th><th>type</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderApiReference(doc: OpenApiDoc): string {
  const groups = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? path.split('/')[2] ?? 'other';
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> <small>${esc(p.in)}${p.required ? ', required' : ''}</small> <code>${esc(typeOf(p.schema))}</code>${p.description ? ` — ${esc(p.description)}` : ''}</li>`)
        .join('');
      const body = fields(op.requestBody?.content?.['application/json']?.schema);
      const html = `<article><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>${
        op.summary ? `<p>${esc(op.summary)}</p>` : ''
      }${params ? `<ul>${params}</ul>` : ''}${body}</article>`;
      groups.set(tag, [...(groups.get(tag) ?? []), html]);
    }
  }
  const sections = [...groups].map(([tag, items]) => `<section><h2>${esc(tag)}</h2>${items.join('')}</section>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(doc.info.title)} reference</title><link rel="stylesheet" href="/docs.css"></head><body><header><h1>${esc(doc.info.title)} <small>v${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description ?? '')} Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p></header><main>${sections}</main></body></html>`;
}

/** Served at /docs.css: the CSP allows styles from files only. */
export const API_REFERENCE_CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}header{padding:24px 32px;background:#0f3b57;color:#fff}header a{color:#9fd3ff}main{max-width:960px;margin:0 auto;padding:16px 32px}h2{text-transform:capitalize;border-bottom:1px solid #dde;padding-bottom:4px}article{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:8px 16px;margin:12px 0}h3{font-size:15px;margin:8px 0}table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}th,td{text-align:left;padding:4px 8px;border-top:1px solid #e3e6ea;vertical-align:top}th{font-weight:600;color:#5a6570}small{color:#5a6570}code{font-family:ui-monospace,monospace;font-size:13px}.m{display:inline-block;min-width:64px;text-align:center;border-radius:4px;padding:2px 6px;color:#fff;font-size:12px}.get{background:#1f7a4d}.post{background:#1f5fa8}.put,.patch{background:#a86b1f}.delete{background:#a81f36}@media (prefers-color-scheme:dark){body{background:#111518;color:#e6e9ec}article{background:#1a1f24;border-color:#2a3138}}`;
