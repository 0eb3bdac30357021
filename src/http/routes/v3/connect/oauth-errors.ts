import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../../domain/errors.js';
import { OAUTH_ERROR_CODES, OAuthTokenError, type OAuthErrorName } from '../../../../oauth/code-exchange.js';

/** The OAuth error body (RFC 6749 §5.2) plus Nylas's numeric `error_code`. */
export const OAuthErrorBody = Type.Object({
  request_id: Type.String(),
  error: Type.String({ description: 'RFC 6749 §5.2 error code' }),
  error_description: Type.String(),
  error_code: Type.Integer({ description: `stable number per error: ${Object.entries(OAUTH_ERROR_CODES).map(([k, v]) => `${v} ${k}`).join(', ')}` }),
});

export const oauthErrorResponses = { 400: OAuthErrorBody, 401: OAuthErrorBody, 429: OAuthErrorBody, 500: OAuthErrorBody };

const body = (req: FastifyRequest, error: OAuthErrorName, description: string) => ({ request_id: req.id, error, error_description: description, error_code: OAUTH_ERROR_CODES[error] });

/**
 * Route error handler of the OAuth endpoints (/v3/connect/token, /v3/connect/revoke): every
 * failure, validation and authentication included, in the OAuth shape, which is what OAuth
 * clients (and the Nylas SDKs' NylasOAuthError) read.
 */
export function oauthErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof OAuthTokenError) return reply.status(err.status).send(err.body(req.id));
  const status = err instanceof AppError ? err.status : (err.statusCode ?? 500);
  if (status >= 500) {
    req.log.error({ err }, 'OAuth endpoint failed');
    return reply.status(500).send(body(req, 'server_error', `internal error; quote request id ${req.id} when reporting it`));
  }
  if (status === 401) return reply.status(401).send(body(req, 'invalid_client', err.message));
  const first = err.validation?.[0];
  const description = first ? `${err.validationContext ?? 'body'}${first.instancePath ? first.instancePath.replace(/\//g, '.') : ''} ${first.message ?? 'is invalid'}` : err.message;
  return reply.status(status).send(body(req, 'invalid_request', description));
}
