/**
 * A self-contained API reference page rendered on the server from the OpenAPI document: no
 * scripts, no CDN, so it works offline and under a strict CSP.
 */
interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, { summary?: string; description?: string; tags?: string[]; parameters?: { name: string; in: string; required?: boolean; description?: string }[]; requestBody?: unknown }>>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderApiReference(doc: OpenApiDoc): string {
  const groups = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? path.split('/')[2] ?? 'other';
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> <small>${esc(p.in)}${p.required ? ', required' : ''}</small>${p.description ? ` — ${esc(p.description)}` : ''}</li>`)
        .join('');
      const html = `<article><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>${
        op.summary ? `<p>${esc(op.summary)}</p>` : ''
      }${params ? `<ul>${params}</ul>` : ''}${op.requestBody ? '<p><small>JSON body: see <a href="/openapi.json">openapi.json</a> for the schema.</small></p>' : ''}</article>`;
      groups.set(tag, [...(groups.get(tag) ?? []), html]);
    }
  }
  const sections = [...groups].map(([tag, items]) => `<section><h2>${esc(tag)}</h2>${items.join('')}</section>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(doc.info.title)} reference</title><style>${STYLE}</style></head><body><header><h1>${esc(doc.info.title)} <small>v${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description ?? '')} Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p></header><main>${sections}</main></body></html>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}header{padding:24px 32px;background:#0f3b57;color:#fff}header a{color:#9fd3ff}main{max-width:960px;margin:0 auto;padding:16px 32px}h2{text-transform:capitalize;border-bottom:1px solid #dde;padding-bottom:4px}article{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:8px 16px;margin:12px 0}h3{font-size:15px;margin:8px 0}.m{display:inline-block;min-width:64px;text-align:center;border-radius:4px;padding:2px 6px;color:#fff;font-size:12px}.get{background:#1f7a4d}.post{background:#1f5fa8}.put,.patch{background:#a86b1f}.delete{background:#a81f36}@media (prefers-color-scheme:dark){body{background:#111518;color:#e6e9ec}article{background:#1a1f24;border-color:#2a3138}}`;
