import type { IncomingHttpHeaders } from 'node:http';
import type { Client, Dispatcher } from 'undici';
import type { DeadlineQueue, Expirable } from './deadlines.js';

/** How one request ended: an HTTP answer (status, headers, the start of its body), or no answer. */
export type Answer =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; snippet: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'error'; error: Error };

/**
 * Cancels a lane's requests together (the first failure of a lane aborts what it has in flight
 * behind it; an aborted write aborts every lane). A plain list of callbacks: an AbortSignal per
 * request, combined per request with AbortSignal.any, cost measurably per delivered event.
 */
export class Cancel {
  aborted = false;
  private readonly hooks = new Set<() => void>();

  add(hook: () => void): void {
    this.hooks.add(hook);
  }

  delete(hook: () => void): void {
    this.hooks.delete(hook);
  }

  /** Cancels everything registered, in the same turn (undici must not resend any of them on a new connection). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const hook of [...this.hooks]) hook();
    this.hooks.clear();
  }
}

export interface PostRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes of a non-2xx body kept for the error message. */
  snippetBytes: number;
  /** Body bytes read and dropped before the connection is cut (reading them keeps it reusable). */
  drainLimit: number;
}

/**
 * One POST through undici's dispatcher interface: no response stream, no abort signal, no timer
 * of its own (the writer's one DeadlineQueue expires it). The answer's body is read and dropped,
 * except the start of a non-2xx body for the error message; an answer larger than `drainLimit`
 * is cut off (its status still counts).
 */
class Post implements Dispatcher.DispatchHandler, Expirable {
  settled = false;
  readonly deadline: number;
  private controller: Dispatcher.DispatchController | null = null;
  /** Set when cancelled before undici started the request; it is aborted as soon as it starts. */
  private cancelled = false;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private kept: Buffer[] = [];
  private size = 0;
  private readonly onCancel = () => this.end({ kind: 'aborted' });

  constructor(
    private readonly req: PostRequest,
    timeoutMs: number,
    private readonly cancel: Cancel,
    private readonly resolve: (a: Answer) => void,
  ) {
    this.deadline = performance.now() + timeoutMs;
    cancel.add(this.onCancel);
  }

  expire(): void {
    this.end({ kind: 'timeout' });
  }

  /** Settles once; an unfinished request is aborted (which cuts its connection, as undici does for any abort). */
  private end(answer: Answer): void {
    if (this.settled) return;
    this.settled = true;
    this.cancel.delete(this.onCancel);
    this.kept = [];
    this.resolve(answer);
    if (answer.kind === 'timeout' || answer.kind === 'aborted') {
      if (this.controller) this.controller.abort(new Error(answer.kind === 'timeout' ? 'request timed out' : 'request aborted'));
      else this.cancelled = true;
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called again if undici resends the request on a new connection; the newest controller counts.
    this.controller = controller;
    if (this.cancelled) controller.abort(new Error('request aborted'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // informational; the real answer follows
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const ok = this.status >= 200 && this.status < 300;
    if (!ok && this.size < this.req.snippetBytes) this.kept.push(chunk);
    this.size += chunk.length;
    if (this.size > this.req.drainLimit) {
      // The status is what counts; the connection is not worth reading this much for.
      this.finish();
      controller.abort(new Error('answer too large'));
    }
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.end({ kind: 'error', error }); // ignored when already settled (cut off, timed out, cancelled)
  }

  private finish(): void {
    if (this.settled) return;
    const snippet = this.kept.length === 0 ? '' : Buffer.concat(this.kept).toString('utf8', 0, this.req.snippetBytes);
    this.end({ kind: 'answer', status: this.status, headers: this.headers, snippet });
  }
}

/** Sends one POST on `client`; resolves (never rejects) with how it ended. */
export function post(client: Client, req: PostRequest, deadlines: DeadlineQueue, timeoutMs: number, cancel: Cancel): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    if (cancel.aborted) return resolve({ kind: 'aborted' });
    const handler = new Post(req, timeoutMs, cancel, resolve);
    deadlines.add(handler);
    client.dispatch(
      {
        path: req.path,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        // Safe to pipeline: the event ids make a resent request a duplicate the receiver can drop,
        // and the lane aborts what follows a failure itself (see pipeline.ts).
        idempotent: true,
        blocking: false,
      },
      handler,
    );
  });
}
