import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorXml, entriesXml, members, parseForm, publishInput, resultXml, topicAttributes, type Params } from './query.js';
import { verifySigV4, type AccessKey } from './sigv4.js';
import { MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, messageSize, SnsError, SnsState, type HttpSubscription, type Topic } from './topics.js';

/**
 * The SNS Query API over HTTP: form POSTs signed with SigV4 (verified against the configured
 * keys), XML answers and errors, plus the GET that a SubscribeURL points at and a control API
 * under /_control (test-only, unsigned).
 */
export interface SnsServerOptions {
  region: string;
  account: string;
  keys: AccessKey[];
  now: () => number;
}

export interface SnsFaults {
  /** The next N signed requests answer Throttling (HTTP 400, "Rate exceeded"). */
  throttle: number;
  /** The next N PublishBatch entries fail individually (InternalError, a receiver fault). */
  failEntries: number;
  /** Topic ARNs on which Publish answers AuthorizationError. */
  denied: Set<string>;
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface SnsServer {
  app: FastifyInstance;
  state: SnsState;
  faults: SnsFaults;
  /** The externally visible base URL (SubscribeURLs point at it), known once listening. */
  setBase(url: string): void;
}

export function snsServer(opts: SnsServerOptions): SnsServer {
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, forceCloseConnections: true });
  const keys = new Map(opts.keys.map((k) => [k.accessKeyId, k]));
  const faults: SnsFaults = { throttle: 0, failEntries: 0, denied: new Set() };
  let base = '';
  const queues = new Map<string, Promise<void>>();
  // One delivery queue per subscription (in publish order), retried like SNS's default http policy (3 retries).
  const deliver = (_t: Topic, sub: HttpSubscription, body: Record<string, unknown>) => {
    const prev = queues.get(sub.arn) ?? Promise.resolve();
    const next = prev.then(async () => {
      for (let attempt = 0; attempt < 4; attempt += 1) {
        try {
          const res = await fetch(sub.endpoint, {
            method: 'POST',
            headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': String(body.Type), 'x-amz-sns-message-id': String(body.MessageId), 'x-amz-sns-topic-arn': String(body.TopicArn), 'x-amz-sns-subscription-arn': sub.arn },
            body: JSON.stringify(body),
          });
          await res.arrayBuffer();
          if (res.ok) return;
        } catch {
          /* the endpoint is down: retry */
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    });
    queues.set(sub.arn, next);
  };
  const state = new SnsState(opts.region, opts.account, opts.now, deliver);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const actions: Record<string, (p: Params, key: AccessKey) => string | Record<string, unknown>> = {
    CreateTopic: (p) => ({ TopicArn: state.createTopic(p.get('Name') ?? '', topicAttributes(p)).arn }),
    GetTopicAttributes: (p) => `<Attributes>${entriesXml(state.attributes(state.topic(p.get('TopicArn'))))}</Attributes>`,
    Subscribe: (p) => ({ SubscriptionArn: (state.subscribe(state.topic(p.get('TopicArn')), p.get('Protocol') ?? '', p.get('Endpoint') ?? '', base), 'pending confirmation') }),
    Publish: (p, key) => {
      const t = state.topic(p.get('TopicArn'));
      authorize(t, key);
      return state.publish(t, publishInput(p));
    },
    PublishBatch: (p, key) => {
      const t = state.topic(p.get('TopicArn'));
      authorize(t, key);
      const entries = members(p, 'PublishBatchRequestEntries.member');
      if (entries.length === 0) throw new SnsError('EmptyBatchRequest', 'The batch request doesn\'t contain any entries.');
      if (entries.length > MAX_BATCH_ENTRIES) throw new SnsError('TooManyEntriesInBatchRequest', `The batch request contains more entries than permissible (${MAX_BATCH_ENTRIES}).`);
      const ids = entries.map((e) => e.get('Id') ?? '');
      if (ids.some((id) => !BATCH_ID.test(id))) throw new SnsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      if (new Set(ids).size !== ids.length) throw new SnsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
      const inputs = entries.map(publishInput);
      const total = inputs.reduce((n, m) => n + messageSize(m), 0);
      if (total > MAX_MESSAGE_BYTES) throw new SnsError('BatchRequestTooLong', `The length of all the messages put together is more than the limit (${MAX_MESSAGE_BYTES} bytes).`);
      const Successful: Record<string, unknown>[] = [];
      const Failed: Record<string, unknown>[] = [];
      inputs.forEach((m, i) => {
        if (faults.failEntries > 0) {
          faults.failEntries -= 1;
          Failed.push({ Id: ids[i], Code: 'InternalError', Message: 'The service encountered an internal error. Try again.', SenderFault: false });
          return;
        }
        try {
          Successful.push({ Id: ids[i], ...state.publish(t, m) });
        } catch (err) {
          if (!(err instanceof SnsError)) throw err;
          Failed.push({ Id: ids[i], Code: err.code, Message: err.message, SenderFault: err.sender });
        }
      });
      return { Successful, Failed };
    },
  };

  function authorize(t: Topic, key: AccessKey) {
    if (faults.denied.has(t.arn)) {
      throw new SnsError('AuthorizationError', `User: ${key.principal ?? `arn:aws:iam::${opts.account}:user/${key.accessKeyId}`} is not authorized to perform: SNS:Publish on resource: ${t.arn} because no identity-based policy allows the SNS:Publish action`, 403);
    }
  }

  app.post('/', async (req, reply) => {
    const requestId = randomUUID();
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    reply.header('x-amzn-requestid', requestId).type('text/xml');
    const fail = (e: SnsError) => reply.code(e.httpStatus).send(errorXml(e.code, e.message, e.sender, requestId));
    const auth = verifySigV4({ method: 'POST', url: req.url, headers: req.headers, body }, 'sns', keys, opts.now());
    if (!auth.ok) return fail(new SnsError(auth.code, auth.message, auth.code === 'MissingAuthenticationToken' ? 403 : 403));
    if (auth.region !== opts.region) return fail(new SnsError('SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${auth.region}'.`, 403));
    if (faults.throttle > 0) {
      faults.throttle -= 1;
      return fail(new SnsError('Throttling', 'Rate exceeded', 400));
    }
    const p = parseForm(body.toString('utf8'));
    const action = p.get('Action') ?? '';
    const handler = actions[action];
    if (!handler) return fail(new SnsError('InvalidAction', `The action ${action} is not valid for this web service.`));
    try {
      return reply.send(resultXml(action, handler(p, auth.key), requestId));
    } catch (err) {
      if (err instanceof SnsError) return fail(err);
      throw err;
    }
  });

  // SubscribeURL: SNS accepts the confirmation unsigned.
  app.get('/', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const requestId = randomUUID();
    reply.type('text/xml');
    try {
      if (q.Action !== 'ConfirmSubscription') throw new SnsError('InvalidAction', `The action ${q.Action ?? ''} is not valid for this web service.`);
      const sub = state.confirm(state.topic(q.TopicArn), q.Token ?? '');
      return reply.send(resultXml('ConfirmSubscription', { SubscriptionArn: sub.arn }, requestId));
    } catch (err) {
      if (!(err instanceof SnsError)) throw err;
      return reply.code(err.httpStatus).send(errorXml(err.code, err.message, err.sender, requestId));
    }
  });

  // Control API: what arrived on a FIFO topic (real FIFO topics deliver only to SQS).
  app.get('/_control/topics/:arn/messages', async (req, reply) => {
    const t = state.topics.get((req.params as { arn: string }).arn);
    if (!t) return reply.code(404).send({ error: 'no such topic' });
    return { messages: t.log };
  });

  return { app, state, faults, setBase: (b) => void (base = b) };
}
