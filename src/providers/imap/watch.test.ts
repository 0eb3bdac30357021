import { EventEmitter } from 'node:events';
import type { ImapFlow } from 'imapflow';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOT_POLL_MS, HOT_WINDOW_MS, watchInbox } from './watch.js';

/** The parts of an imapflow client the watcher uses: events, NOOP, and the selected mailbox. */
class FakeClient extends EventEmitter {
  usable = true;
  mailbox = { path: 'INBOX' };
  noops = 0;
  noop = vi.fn(async () => {
    this.noops++;
  });
  mailboxOpen = vi.fn(async () => undefined);
  exists(count: number, prevCount: number, path = 'INBOX') {
    this.emit('exists', { path, count, prevCount });
  }
}

describe('watchInbox', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  async function start(busy = () => false) {
    const client = new FakeClient();
    const hints: string[] = [];
    const stop = await watchInbox(client as unknown as ImapFlow, (r) => hints.push(r), { busy, now: () => Date.now() });
    return { client, hints, stop };
  }

  it('turns a new-mail EXISTS into a hint and polls with NOOP while mail flows, then falls back to IDLE', async () => {
    const { client, hints, stop } = await start();
    expect(client.noops).toBe(0);
    client.exists(1, 0);
    expect(hints).toEqual(['idle']);
    await vi.advanceTimersByTimeAsync(HOT_POLL_MS * 5 + 1);
    expect(client.noops).toBe(5);
    await vi.advanceTimersByTimeAsync(HOT_WINDOW_MS);
    const afterWindow = client.noops;
    expect(afterWindow).toBeLessThanOrEqual(HOT_WINDOW_MS / HOT_POLL_MS + 1);
    await vi.advanceTimersByTimeAsync(HOT_WINDOW_MS * 3);
    expect(client.noops).toBe(afterWindow); // quiet mailbox: no more polling
    await stop();
  });

  it('keeps one poll chain however many EXISTS arrive, and each new mail extends the window', async () => {
    const { client, stop } = await start();
    client.exists(1, 0);
    client.exists(2, 1);
    client.exists(3, 2);
    await vi.advanceTimersByTimeAsync(HOT_POLL_MS * 10 + 1);
    expect(client.noops).toBe(10);
    client.exists(4, 3); // mail keeps coming: still hot well past the first window
    await vi.advanceTimersByTimeAsync(HOT_WINDOW_MS - HOT_POLL_MS);
    expect(client.noops).toBeGreaterThan(HOT_WINDOW_MS / HOT_POLL_MS);
    await stop();
  });

  it('ignores expunges and other folders, never polls while a pass uses the connection, and stops polling when stopped', async () => {
    let busy = true;
    const { client, hints, stop } = await start(() => busy);
    client.exists(5, 6);
    client.exists(2, 1, 'Archive');
    expect(hints).toEqual([]);
    client.exists(7, 6);
    await vi.advanceTimersByTimeAsync(HOT_POLL_MS * 5 + 1);
    expect(client.noops).toBe(0);
    busy = false;
    await vi.advanceTimersByTimeAsync(HOT_POLL_MS + 1);
    expect(client.noops).toBe(1);
    await stop();
    await vi.advanceTimersByTimeAsync(HOT_WINDOW_MS);
    expect(client.noops).toBe(1);
    client.exists(8, 7);
    expect(hints).toEqual(['idle']);
  });

  it('reports a dropped connection as a hint and stops polling on it', async () => {
    const { client, hints, stop } = await start();
    client.exists(1, 0);
    client.usable = false;
    client.emit('close');
    expect(hints).toEqual(['idle', 'connection closed']);
    await vi.advanceTimersByTimeAsync(HOT_WINDOW_MS);
    expect(client.noops).toBe(0);
    await stop();
  });
});
