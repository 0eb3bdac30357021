import type { Api } from '../../src/http/types.js';
import { buildHttpApp } from '../../src/http/app.js';
import { ensureDefaultApplication } from '../../src/main.js';
import { testContext, type DatabaseKind, type TestContext } from './context.js';

/** A test API: the real Fastify app on a test database, with an API key of the default application. */
export interface TestApi {
  ctx: TestContext;
  app: Api;
  key: string;
  applicationId: string;
  call(method: string, url: string, body?: unknown, key?: string | null): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export async function testApi(kind: DatabaseKind, env: Record<string, string> = {}): Promise<TestApi> {
  const ctx = await testContext(kind, env);
  const { applicationId, printKey } = await ensureDefaultApplication(ctx);
  const app = await buildHttpApp(ctx);
  await app.ready();
  const key = printKey!;
  return {
    ctx,
    app,
    key,
    applicationId,
    async call(method, url, body, k = key) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(k ? { authorization: `Bearer ${k}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      let parsed: unknown = res.body;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body: parsed };
    },
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}
