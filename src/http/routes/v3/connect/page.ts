import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../../../context.js';
import { HostedAuthError, withParams } from '../../../../oauth/errors.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain, script-free page for sign-in errors that cannot go back to the app. */
export function errorPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1><p>${escape(message)}</p><p>Close this window and start the sign-in again from the application.</p></main></body></html>`;
}

/** Sends a hosted-auth failure: OAuth error parameters to the app when it is safe, else a page. */
export function sendAuthError(reply: FastifyReply, err: HostedAuthError) {
  if (err.redirect) {
    return reply.redirect(withParams(err.redirect.uri, { error: err.error, error_description: err.description, state: err.redirect.state }), 302);
  }
  return reply.status(err.status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(errorPage('Sign-in could not continue', err.description));
}

/** Stricter per-address limit for the public sign-in routes (a fiftieth of the API limit, at least 10 a minute). */
export function connectRateLimit(ctx: Pick<AppContext, 'config'>) {
  return {
    max: Math.max(10, Math.floor(ctx.config.rateLimitPerMinute / 50)),
    timeWindow: 60_000,
    keyGenerator: (req: { ip: string }) => `connect:${req.ip}`,
  };
}
