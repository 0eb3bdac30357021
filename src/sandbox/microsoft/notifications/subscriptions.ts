import type { SandboxClock } from '../clock.js';
import type { Directory } from '../directory.js';
import { guid, restItemId } from '../ids.js';
import { GraphError, badRequest } from '../graph/errors.js';
import type { MailboxChange } from '../graph/mailbox.js';
import { requireAnyScope } from '../graph/mail.js';
import { splitPath, type GraphRequest, type GraphResponse } from '../graph/request.js';
import type { Mailboxes } from '../mailboxes.js';
import type { Notifier } from './notifier.js';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
type ChangeType = 'created' | 'updated' | 'deleted';

/** Outlook message subscriptions: at most 10,080 minutes (7 days); shorter than 45 minutes is raised to 45. */
export const MAX_EXPIRATION_MIN = 10_080;
export const MIN_EXPIRATION_MIN = 45;
const CLIENT_STATE_MAX = 128;
const CHANGE_TYPES = new Set<ChangeType>(['created', 'updated', 'deleted']);

export interface Subscription {
  id: string;
  resource: string;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expiresAt: number;
  applicationId: string;
  creatorId: string;
  userId: string;
  tenantId: string;
  /** undefined = every message in the mailbox (`me/messages`). */
  folderId?: string;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableIds: boolean;
}

export interface SubscriptionOptions {
  /** Refuse http:// notification URLs, as the real service does (off by default: loopback tests use http). */
  requireHttps: boolean;
}

/** `/v1.0/subscriptions` and the notifications they produce. */
export class Subscriptions {
  private readonly byId = new Map<string, Subscription>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly directory: Directory,
    private readonly mailboxes: Mailboxes,
    readonly notifier: Notifier,
    private readonly graphUrl: () => string,
    private readonly options: SubscriptionOptions,
  ) {}

  list(): Subscription[] {
    return [...this.byId.values()].filter((s) => s.expiresAt > this.clock.now());
  }

  async handle(req: GraphRequest): Promise<GraphResponse> {
    const [id, action, ...extra] = req.segments;
    if (extra.length) throw badRequest(`Resource not found for the segment '${extra.join('/')}'.`);
    if (id === undefined) {
      if (req.method === 'POST') return this.create(req);
      if (req.method === 'GET') {
        const value = this.list().filter((s) => s.applicationId === req.token.clientId && s.creatorId === req.user.id).map((s) => this.json(s));
        return { status: 200, body: { '@odata.context': `${this.graphUrl()}/$metadata#subscriptions`, value } };
      }
      throw new GraphError(405, 'BadRequest', 'The HTTP method is not allowed for this resource.');
    }
    const sub = this.byId.get(id);
    if (!sub || sub.expiresAt <= this.clock.now() || sub.applicationId !== req.token.clientId) {
      throw new GraphError(404, 'ResourceNotFound', `The object was not found.`);
    }
    if (action?.toLowerCase() === 'reauthorize' && req.method === 'POST') return { status: 204 };
    if (action !== undefined) throw badRequest(`Resource not found for the segment '${action}'.`);
    if (req.method === 'GET') return { status: 200, body: this.json(sub) };
    if (req.method === 'DELETE') {
      this.byId.delete(sub.id);
      return { status: 204 };
    }
    if (req.method === 'PATCH') return this.update(sub, req);
    throw new GraphError(405, 'BadRequest', 'The HTTP method is not allowed for this resource.');
  }

  /** A change in a mailbox → one notification per matching, live subscription. */
  onChange(userId: string, c: MailboxChange): void {
    const now = this.clock.now();
    for (const s of this.byId.values()) {
      if (s.userId !== userId || s.expiresAt <= now || !s.changeTypes.includes(c.kind)) continue;
      if (s.folderId && s.folderId !== c.folderId) continue;
      const id = s.immutableIds ? c.immutableId : restItemId(c.immutableId, c.folderId);
      const path = `Users/${s.userId}/Messages/${id}`;
      this.notifier.enqueue(
        s.notificationUrl,
        {
          subscriptionId: s.id,
          subscriptionExpirationDateTime: new Date(s.expiresAt).toISOString().replace('Z', '+00:00'),
          changeType: c.kind,
          resource: path,
          resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': path, '@odata.etag': `W/"${c.changeKey}"`, id },
          clientState: s.clientState,
          tenantId: s.tenantId,
        },
        true,
      );
    }
  }

  async lifecycle(id: string, event: LifecycleEvent): Promise<void> {
    const s = this.byId.get(id);
    if (!s) throw new Error(`unknown subscription ${id}`);
    if (!s.lifecycleNotificationUrl) return;
    this.notifier.enqueue(
      s.lifecycleNotificationUrl,
      {
        subscriptionId: s.id,
        subscriptionExpirationDateTime: new Date(s.expiresAt).toISOString().replace('Z', '+00:00'),
        tenantId: s.tenantId,
        clientState: s.clientState,
        lifecycleEvent: event,
      },
      false,
    );
  }

  async removeByService(id: string): Promise<void> {
    await this.lifecycle(id, 'subscriptionRemoved');
    this.byId.delete(id);
  }

  expireNow(id: string): void {
    const s = this.byId.get(id);
    if (!s) throw new Error(`unknown subscription ${id}`);
    s.expiresAt = this.clock.now();
  }

  private async create(req: GraphRequest): Promise<GraphResponse> {
    const b = body(req);
    const changeTypes = parseChangeTypes(b.changeType);
    const notificationUrl = this.url(b.notificationUrl, 'notificationUrl');
    const lifecycleNotificationUrl = b.lifecycleNotificationUrl === undefined || b.lifecycleNotificationUrl === null ? null : this.url(b.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
    if (typeof b.resource !== 'string' || !b.resource) throw invalid("The 'resource' property is required.");
    const target = this.resolveResource(b.resource, req);
    requireAnyScope(req, ['mail.read', 'mail.readbasic', 'mail.readwrite']);
    const expiresAt = this.expiration(b.expirationDateTime);
    let clientState: string | null = null;
    if (b.clientState !== undefined && b.clientState !== null) {
      if (typeof b.clientState !== 'string') throw invalid("'clientState' must be a string.");
      if (b.clientState.length > CLIENT_STATE_MAX) throw invalid(`The length of 'clientState' must not exceed ${CLIENT_STATE_MAX} characters.`);
      clientState = b.clientState;
    }
    // The handshake happens before the subscription exists; a failure means no subscription.
    await this.validateUrl(notificationUrl);
    if (lifecycleNotificationUrl && lifecycleNotificationUrl !== notificationUrl) await this.validateUrl(lifecycleNotificationUrl);
    const sub: Subscription = {
      id: guid(),
      resource: b.resource,
      changeTypes,
      notificationUrl,
      lifecycleNotificationUrl,
      clientState,
      expiresAt,
      applicationId: req.token.clientId,
      creatorId: req.user.id,
      userId: target.userId,
      tenantId: req.token.tenantId,
      immutableIds: req.immutableIds,
      ...(target.folderId ? { folderId: target.folderId } : {}),
    };
    this.byId.set(sub.id, sub);
    return { status: 201, body: { '@odata.context': `${this.graphUrl()}/$metadata#subscriptions/$entity`, ...this.json(sub) } };
  }

  private async update(sub: Subscription, req: GraphRequest): Promise<GraphResponse> {
    const b = body(req);
    if (b.lifecycleNotificationUrl !== undefined) throw invalid("'lifecycleNotificationUrl' can only be set when the subscription is created.");
    const expiresAt = b.expirationDateTime !== undefined ? this.expiration(b.expirationDateTime) : sub.expiresAt;
    let notificationUrl = sub.notificationUrl;
    if (b.notificationUrl !== undefined) {
      notificationUrl = this.url(b.notificationUrl, 'notificationUrl');
      if (notificationUrl !== sub.notificationUrl) await this.validateUrl(notificationUrl);
    }
    sub.expiresAt = expiresAt;
    sub.notificationUrl = notificationUrl;
    return { status: 200, body: { '@odata.context': `${this.graphUrl()}/$metadata#subscriptions/$entity`, ...this.json(sub) } };
  }

  private async validateUrl(url: string): Promise<void> {
    const problem = await this.notifier.validate(url);
    if (problem) throw new GraphError(400, 'ValidationError', `Subscription validation request failed. ${problem}`);
  }

  private url(v: unknown, name: string): string {
    let u: URL;
    try {
      u = new URL(String(v));
    } catch {
      throw invalid(`'${name}' must be an absolute URL.`);
    }
    if (u.protocol !== 'https:' && (u.protocol !== 'http:' || this.options.requireHttps)) throw invalid(`Subscription '${name}' must use the https scheme.`);
    // Kept as given: Graph echoes the URL back verbatim and POSTs to exactly that string.
    return String(v);
  }

  private expiration(v: unknown): number {
    const at = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(at)) throw invalid("'expirationDateTime' is required and must be a date-time.");
    const now = this.clock.now();
    if (at <= now) throw invalid('Subscription expiration can only be in the future.');
    if (at > now + MAX_EXPIRATION_MIN * 60_000) throw invalid(`Subscription expiration can only be ${MAX_EXPIRATION_MIN} minutes in the future.`);
    return Math.max(at, now + MIN_EXPIRATION_MIN * 60_000);
  }

  /** `me/mailFolders('inbox')/messages`, `/users/{id}/mailFolders/{id}/messages`, `me/messages`. */
  private resolveResource(resource: string, req: GraphRequest): { userId: string; folderId?: string } {
    const segs = splitPath(resource.split('?')[0] ?? '');
    const head = segs[0]?.toLowerCase();
    let userId: string;
    let rest: string[];
    if (head === 'me') {
      userId = req.user.id;
      rest = segs.slice(1);
    } else if (head === 'users' && segs[1]) {
      const u = this.directory.findUser(segs[1]);
      if (!u || u.id !== req.user.id) throw new GraphError(403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied. Check credentials and try again.]');
      userId = u.id;
      rest = segs.slice(2);
    } else throw invalid(`Resource '${resource}' is not supported.`);
    const r = rest.map((s, i) => (i % 2 === 0 ? s.toLowerCase() : s));
    if (r.length === 1 && r[0] === 'messages') return { userId };
    if (r.length === 3 && r[0] === 'mailfolders' && r[2] === 'messages' && r[1]) {
      const folder = this.mailboxes.get(userId).folder(r[1]);
      if (!folder) throw new GraphError(404, 'ExtensionError', 'Operation: Create; Exception: [Status Code: NotFound; Reason: The specified folder could not be found in the store.]');
      return { userId, folderId: folder.id };
    }
    throw invalid(`Resource '${resource}' is not supported.`);
  }

  private json(s: Subscription): Record<string, unknown> {
    return {
      id: s.id,
      resource: s.resource,
      applicationId: s.applicationId,
      changeType: s.changeTypes.join(','),
      clientState: s.clientState,
      notificationUrl: s.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: s.lifecycleNotificationUrl,
      expirationDateTime: new Date(s.expiresAt).toISOString(),
      creatorId: s.creatorId,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }
}

const invalid = (message: string) => new GraphError(400, 'InvalidRequest', message);

function body(req: GraphRequest): Record<string, unknown> {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw invalid('The request body must be a JSON object.');
  return req.body as Record<string, unknown>;
}

function parseChangeTypes(v: unknown): ChangeType[] {
  if (typeof v !== 'string' || !v.trim()) throw invalid("The 'changeType' property is required.");
  const list = v.split(',').map((s) => s.trim());
  for (const t of list) if (!CHANGE_TYPES.has(t as ChangeType)) throw invalid(`'${t}' is not a valid changeType; use created, updated or deleted.`);
  return [...new Set(list as ChangeType[])];
}
