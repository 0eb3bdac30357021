/**
 * `npm run bench:sandbox-microsoft` — what the Microsoft sandbox itself costs, so end-to-end
 * figures (sandbox accepts a message → event committed) can be read against it:
 *   1. notification latency: deliverMail → POST received by a local notification endpoint,
 *      200 messages, one subscription per mailbox, notificationDelayMs 0;
 *   2. Graph throughput: delta rounds (deltaLink → empty page) from 8 mailboxes × 4 concurrent;
 *   3. memory with 1,000 users, tokens, subscriptions and 10 messages each.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMicrosoftSandbox } from '../src/sandbox/microsoft/index.js';
import { REDIRECT, signIn } from '../test/sandbox/microsoft-helpers.js';
import { machineLine, percentile } from './machine.js';

const quantile = (xs: number[], q: number) => percentile([...xs].sort((a, b) => a - b), q * 100);
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main() {
  console.log(machineLine());
  const sb = await startMicrosoftSandbox({ accessTokenLifetimeSeconds: 3600 });
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = new URL(req.url ?? '', 'http://x').searchParams.get('validationToken');
      if (token !== null) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
        return;
      }
      const at = performance.now();
      for (const n of (JSON.parse(Buffer.concat(chunks).toString()) as { value: { resourceData: { id: string } }[] }).value) arrivals.set(n.resourceData.id, at);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  try {
    const app = sb.control.createApp({ redirectUris: [REDIRECT] });
    const MAILBOXES = 8;
    const accounts = [];
    for (let i = 0; i < MAILBOXES; i++) {
      const user = sb.control.createUser({ mail: `bench${i}@contoso.com` });
      const tokens = await signIn(sb, app, user.mail);
      const auth = { authorization: `Bearer ${tokens.access_token}`, prefer: 'IdType="ImmutableId"' };
      const r = await fetch(`${sb.graphUrl}/subscriptions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ changeType: 'created', notificationUrl: hook, resource: "me/mailFolders('inbox')/messages", expirationDateTime: new Date(Date.now() + 86_400_000).toISOString(), clientState: 'x' }),
      });
      if (r.status !== 201) throw new Error(`subscription failed: ${r.status}`);
      accounts.push({ user, auth });
    }

    // 1. Notification latency.
    const sentAt = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const a = accounts[i % MAILBOXES];
      if (!a) continue;
      const t0 = performance.now();
      sentAt.set(sb.control.deliverMail(a.user.mail, { from: 'x@example.com', subject: `m${i}` }).id, t0);
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (arrivals.size < sentAt.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const lat = [...sentAt].map(([id, t0]) => (arrivals.get(id) ?? NaN) - t0).filter((x) => !Number.isNaN(x));
    console.log(`notification latency (${lat.length}/${sentAt.size} delivered): p50 ${fmt(quantile(lat, 0.5))}, p99 ${fmt(quantile(lat, 0.99))}`);

    // 2. Delta throughput: 8 mailboxes × 4 concurrent loops, 5 s.
    const links = await Promise.all(
      accounts.map(async (a) => {
        let url = `${sb.graphUrl}/me/mailFolders/inbox/messages/delta?$select=subject`;
        for (;;) {
          const body = (await (await fetch(url, { headers: { ...a.auth, prefer: `${a.auth.prefer}, odata.maxpagesize=50` } })).json()) as Record<string, string>;
          if (body['@odata.nextLink']) url = body['@odata.nextLink'];
          else return body['@odata.deltaLink'] ?? '';
        }
      }),
    );
    let calls = 0;
    const durations: number[] = [];
    const end = performance.now() + 5_000;
    await Promise.all(
      accounts.flatMap((a, i) =>
        Array.from({ length: 4 }, async () => {
          // Follow each round's new deltaLink, as a client must (old ones fall out of the per-folder cache).
          let link = links[i] ?? '';
          while (performance.now() < end) {
            const t0 = performance.now();
            const r = await fetch(link, { headers: a.auth });
            if (r.status !== 200) throw new Error(`delta round failed: ${r.status}`);
            link = ((await r.json()) as Record<string, string>)['@odata.deltaLink'] ?? link;
            durations.push(performance.now() - t0);
            calls++;
          }
        }),
      ),
    );
    console.log(`delta rounds: ${(calls / 5).toFixed(0)} req/s, p50 ${fmt(quantile(durations, 0.5))}, p99 ${fmt(quantile(durations, 0.99))} (32 concurrent, 8 mailboxes)`);

    // 3. Memory at 1,000 mailboxes.
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i++) {
      const user = sb.control.createUser({ mail: `mem${i}@fabrikam.com` });
      const tokens = await signIn(sb, app, user.mail);
      await fetch(`${sb.graphUrl}/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ changeType: 'created', notificationUrl: hook, resource: 'me/messages', expirationDateTime: new Date(Date.now() + 86_400_000).toISOString() }),
      });
      for (let m = 0; m < 10; m++) sb.control.deliverMail(user.mail, { from: 'x@example.com', subject: `s${m}`, html: '<p>hello</p>' });
    }
    await new Promise((r) => setTimeout(r, 500));
    global.gc?.();
    const after = process.memoryUsage();
    console.log(`memory: +${((after.heapUsed - before) / 1048576).toFixed(1)} MB heap for 1,000 mailboxes (10 messages, 1 subscription, 1 token set each); rss ${(after.rss / 1048576).toFixed(0)} MB`);
  } finally {
    await sb.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
