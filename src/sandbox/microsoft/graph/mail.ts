import { DEFAULT_DELTA_PAGE, type DeltaEngine } from './delta.js';
import { parseListQuery, runListQuery } from './list-query.js';
import { accessDenied, badRequest, GraphError, notFound } from './errors.js';
import type { Folder, Mailbox, Message } from './mailbox.js';
import { attachmentJson, folderJson, messageJson, type RenderOptions } from './message-json.js';
import { ok, parseSelect, type GraphRequest, type GraphResponse } from './request.js';

const MAIL_SCOPES = ['mail.read', 'mail.readbasic', 'mail.readwrite'];
const WRITE_SCOPES = ['mail.readwrite'];

export function requireAnyScope(req: GraphRequest, scopes: readonly string[]): void {
  if (!scopes.some((s) => req.token.scopes.has(s))) throw accessDenied();
}

export interface MailDeps {
  graphUrl: () => string;
  delta: DeltaEngine;
}

/**
 * Mail resources under `/me` or `/users/{id}`: folders, messages, attachments, delta, and the
 * two writes a mail client needs (mark read/flag, move). `prefix` is the path the caller used
 * (`me` or `users/{id}`), so links point back the same way.
 */
export function handleMail(req: GraphRequest, mailbox: Mailbox, prefix: string, d: MailDeps): GraphResponse {
  requireAnyScope(req, MAIL_SCOPES);
  const [first, second, third, fourth, fifth] = req.segments.map((s, i) => (i % 2 === 0 ? s.toLowerCase() : s));
  const base = `${d.graphUrl()}/${prefix}`;
  const select = parseSelect(req.query.$select);
  const opts = (expandAttachments = false): RenderOptions => ({ immutableIds: req.immutableIds, expandAttachments, ...(select ? { select } : {}) });
  const idHeaders: Record<string, string> = req.immutableIds ? { 'preference-applied': 'IdType="ImmutableId"' } : {};
  const expand = (req.query.$expand ?? '').toLowerCase().startsWith('attachments');

  if (req.method === 'GET' && first === 'mailfolders' && second === undefined) {
    const top = [...mailbox.folders.values()].filter((f) => f.parentFolderId === mailbox.rootId);
    return ok({ '@odata.context': `${d.graphUrl()}/$metadata#users('${mailbox.userId}')/mailFolders`, value: top.map((f) => folderJson(mailbox, f)) });
  }
  if (first === 'mailfolders' && second !== undefined) {
    const folder = mailbox.folder(second);
    if (!folder) throw notFound('The specified folder could not be found in the store.');
    if (req.method === 'GET' && third === undefined) return ok(folderJson(mailbox, folder));
    if (req.method === 'GET' && third === 'childfolders' && fourth === undefined) {
      return ok({ value: [...mailbox.folders.values()].filter((f) => f.parentFolderId === folder.id).map((f) => folderJson(mailbox, f)) });
    }
    if (third === 'messages' && fourth !== undefined && isDelta(fourth) && req.method === 'GET') return delta(req, mailbox, folder, prefix, d);
    if (third === 'messages' && fourth === undefined && req.method === 'GET') return list(req, mailbox, (m) => m.folderId === folder.id, `${base}/mailFolders/${folder.id}/messages`, d.graphUrl());
    if (third === 'messages' && fourth !== undefined && fifth === undefined && req.method === 'GET') {
      const msg = mailbox.message(fourth);
      if (!msg || msg.folderId !== folder.id) throw notFound();
      return ok(messageJson(mailbox, msg, opts(expand)), idHeaders);
    }
  }
  if (first === 'messages') {
    if (second === undefined && req.method === 'GET') return list(req, mailbox, () => true, `${base}/messages`, d.graphUrl());
    if (second !== undefined && isDelta(second)) throw badRequest('Change tracking is not supported against \'microsoft.graph.message\'. Use a mail folder: /me/mailFolders/{id}/messages/delta.', 'ErrorInvalidRequest');
    const msg = second !== undefined ? mailbox.message(second) : undefined;
    if (!msg) throw notFound();
    if (third === undefined && req.method === 'GET') return ok(messageJson(mailbox, msg, opts(expand)), idHeaders);
    if (third === 'attachments' && req.method === 'GET') return ok({ value: msg.attachments.map(attachmentJson) });
    if (third === undefined && req.method === 'PATCH') {
      requireAnyScope(req, WRITE_SCOPES);
      const body = (req.body ?? {}) as { isRead?: unknown; flag?: { flagStatus?: unknown } };
      const patch: { isRead?: boolean; flagged?: boolean } = {};
      if (typeof body.isRead === 'boolean') patch.isRead = body.isRead;
      if (body.flag && typeof body.flag.flagStatus === 'string') patch.flagged = body.flag.flagStatus === 'flagged';
      return ok(messageJson(mailbox, mailbox.update(msg.immutableId, patch), opts()), idHeaders);
    }
    if (third === 'move' && req.method === 'POST') {
      requireAnyScope(req, WRITE_SCOPES);
      const destination = (req.body as { destinationId?: unknown } | undefined)?.destinationId;
      if (typeof destination !== 'string' || !mailbox.folder(destination)) throw badRequest("The property 'destinationId' is missing or names an unknown folder.", 'ErrorInvalidIdMalformed');
      return { status: 201, body: messageJson(mailbox, mailbox.move(msg.immutableId, destination), opts()), headers: idHeaders };
    }
  }
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${req.segments.join('/')}'.`);
}

const isDelta = (s: string) => ['delta', 'delta()', 'microsoft.graph.delta', 'microsoft.graph.delta()'].includes(s.toLowerCase());

/**
 * A message list: `$filter`, `$orderby`, `$top` (1–1000), `$skip`, `$count`, `$select` and
 * `$expand=attachments` (list-query.ts); `@odata.nextLink` repeats the query with the next `$skip`.
 */
function list(req: GraphRequest, mailbox: Mailbox, pick: (m: Message) => boolean, url: string, graphUrl: string): GraphResponse {
  const immutableIds = req.immutableIds;
  const q = parseListQuery(req.query);
  const result = runListQuery(mailbox.byReceived(), q, pick);
  const o: RenderOptions = { immutableIds, ...(q.select ? { select: q.select } : {}), ...(q.expand ? { expandAttachments: true, ...(q.expand.select ? { attachmentSelect: q.expand.select } : {}) } : {}) };
  const body: Record<string, unknown> = { '@odata.context': `${graphUrl}/$metadata#users('${mailbox.userId}')/messages`, value: result.page.map((m) => messageJson(mailbox, m, o)) };
  if (result.total !== undefined) body['@odata.count'] = result.total;
  if (result.more) {
    const next = new URL(url);
    for (const [k, v] of Object.entries(req.query)) if (v !== undefined && k !== '$skip') next.searchParams.set(k, v);
    next.searchParams.set('$top', String(q.top));
    next.searchParams.set('$skip', String(q.skip + q.top));
    body['@odata.nextLink'] = next.toString();
  }
  return ok(body, immutableIds ? { 'preference-applied': 'IdType="ImmutableId"' } : undefined);
}

function delta(req: GraphRequest, mailbox: Mailbox, folder: Folder, prefix: string, d: MailDeps): GraphResponse {
  const pageSize = req.maxPageSize ?? DEFAULT_DELTA_PAGE;
  const skip = req.query.$skiptoken;
  const deltaToken = req.query.$deltatoken;
  const link = (kind: '$skiptoken' | '$deltatoken', token: string) => `${d.graphUrl()}/${prefix}/mailFolders('${folder.id}')/messages/delta?${kind}=${token}`;
  let token = skip ?? deltaToken;
  if (!token) token = d.delta.initial(mailbox, folder.id, parseSelect(req.query.$select), req.query.$filter);
  let page;
  try {
    page = d.delta.page(mailbox, token, pageSize, req.immutableIds);
  } catch (e) {
    // Point the client at a fresh full round (same folder and $select) to re-baseline from.
    if (e instanceof GraphError && e.status === 410) {
      e.headers.location = link('$skiptoken', d.delta.initial(mailbox, folder.id, parseSelect(req.query.$select), undefined));
    }
    throw e;
  }
  const applied = [req.maxPageSize !== undefined ? `odata.maxpagesize=${pageSize}` : '', req.immutableIds ? 'IdType="ImmutableId"' : ''].filter(Boolean).join(', ');
  const body: Record<string, unknown> = { '@odata.context': `${d.graphUrl()}/$metadata#Collection(message)`, value: page.value };
  if (page.nextToken) body['@odata.nextLink'] = link('$skiptoken', page.nextToken);
  if (page.deltaToken) body['@odata.deltaLink'] = link('$deltatoken', page.deltaToken);
  return ok(body, applied ? { 'preference-applied': applied } : undefined);
}
