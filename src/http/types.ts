import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';

/** The Fastify instance with TypeBox typing that every route module receives. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Who is calling: an application, reached through an API key, a dashboard session or a grant's access token. */
export interface Principal {
  applicationId: string;
  via: 'api_key' | 'session' | 'grant_token';
  keyId?: string;
  userId?: string;
  /** With a grant access token: the one grant it is scoped to. */
  grantId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes are authenticated unless they opt out with `public: true`. */
    public?: boolean;
    /** Routes that also accept a grant-scoped access token (from POST /v3/connect/token). */
    grantToken?: boolean;
  }
}
