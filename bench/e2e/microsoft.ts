/**
 * The Microsoft scenario of `npm run bench:e2e`: one mailbox connected through hosted auth against
 * the Microsoft sandbox (Graph change notifications on), a webhook stream to the bench receiver
 * (its own process), one worker (sync + delivery, production settings, commit notifications) and
 * the API (which receives the sandbox's notifications) in this process, on its own PostgreSQL.
 * Mails arrive at a steady rate; for each: the sandbox accepting the mail (it posts the change
 * notification at once) → the webhook's receipt, split at the log (the appending transaction's
 * start, `events.created_at`).
 */
import { openPostgres } from '../../src/store/index.js';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { streamService } from '../../src/delivery/streams.js';
import { startMicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { connectMicrosoft, hostedAuth, startTributary } from '../microsoft-setup.js';
import { sleep, startReceiver, startWorker } from './harness.js';

const MAIL = 'e2e@contoso.com';

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

export async function microsoftLatency(count: number, gapMs = 500): Promise<{ toHook: number[]; toLog: number[]; duplicates: number }> {
  const pg = await startPostgres();
  const store = await openPostgres(pg.url());
  const sb = await startMicrosoftSandbox();
  const rx = await startReceiver();
  // The receiver is plain http on loopback, as in the IMAP scenarios' context.
  const s = await startTributary(store, sb, { TRIBUTARY_FALLBACK_SYNC_MS: '600000', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true' });
  const worker = await startWorker(s.ctx, 'bench-e2e-microsoft');
  try {
    await connectMicrosoft(s, sb);
    sb.control.createUser({ mail: MAIL });
    const grantId = await hostedAuth(s, sb, MAIL);
    const svc = streamService({ db: store.db, sealer: s.ctx.sealer, catalog: registryCatalog, now: () => new Date(), logger: s.ctx.logger, allowPrivateAddresses: true, dataDir: '/nonexistent' });
    await svc.create(s.applicationId, { name: 'bench microsoft', dataTypes: ['message.created'], grantIds: [grantId], destination: { type: 'webhook', config: { url: rx.url, secret: 'bench-secret-0123456789' } } });
    await worker.engine.scan();
    await until('a Graph subscription', () => sb.control.listSubscriptions().length > 0, 30_000);
    // One mail end to end first: connections, prepared statements and the runner are warm.
    sb.control.deliverMail(MAIL, { from: 'sender@example.com', subject: 'warm-up', html: '<p>warm</p>' });
    await until('the warm-up mail at the webhook', async () => (await rx.count()) > 0, 30_000);
    await rx.reset();
    const sentAt: number[] = [];
    for (let i = 0; i < count; i++) {
      await sleep(gapMs);
      sentAt.push(Date.now());
      sb.control.deliverMail(MAIL, { from: 'sender@example.com', subject: `ms ${i}`, html: `<p>message ${i}</p>` });
    }
    let summary = await rx.summary();
    await until(
      `${count} mails at the webhook`,
      async () => {
        summary = await rx.summary();
        return sentAt.every((_, i) => summary.bySubject[`ms ${i}`] !== undefined);
      },
      120_000,
    );
    const logged = await store.db.selectFrom('events').select(['created_at', 'object']).where('grant_id', '=', grantId).where('type', '=', 'message.created').execute();
    const committedAt = new Map(logged.map((r) => [String((r.object as { subject?: string }).subject), new Date(r.created_at).getTime()]));
    const toHook = sentAt.map((at, i) => summary.bySubject[`ms ${i}`]! - at).sort((a, b) => a - b);
    const toLog = sentAt.map((at, i) => committedAt.get(`ms ${i}`)! - at).sort((a, b) => a - b);
    return { toHook, toLog, duplicates: summary.duplicates };
  } finally {
    await worker.stop();
    await s.app.close();
    await sb.close();
    rx.stop();
    await store.close();
    pg.stop();
  }
}
