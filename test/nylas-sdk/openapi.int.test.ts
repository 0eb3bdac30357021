import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';

type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };

/** /openapi.json is complete enough for generated clients: names, success and error types for every operation. */
describe('the OpenAPI document', () => {
  let api: TestApi;
  let spec: OpenAPI3;
  const operations = () =>
    Object.entries(spec.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Operation>)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );

  beforeAll(async () => {
    api = await testApi('pglite');
    spec = (await api.call('GET', '/openapi.json', undefined, null)).body as OpenAPI3;
  });
  afterAll(() => api?.close());

  it('names every operation once, and documents a success and an error body for each', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(40);
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.filter((id) => !id), 'operations without operationId').toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { name, op } of ops) {
      const codes = Object.keys(op.responses ?? {});
      const success = codes.filter((c) => /^[23]/.test(c));
      expect(success, `${name}: success response`).not.toEqual([]);
      for (const c of success.filter((c) => /^2\d\d$/.test(c))) expect(op.responses![c]!.content?.['application/json']?.schema, `${name} ${c} schema`).toBeTruthy();
      expect(op.responses!['400']?.content, `${name}: 400 body`).toBeTruthy();
    }
    // Browser redirects are documented as such.
    for (const path of ['/v3/connect/auth', '/v3/connect/callback']) {
      const codes = Object.keys((spec.paths![path] as Record<string, Operation>).get!.responses!);
      expect(codes, path).toContain('302');
      expect(codes, path).not.toContain('200');
    }
  });

  it('generates a typed client with openapi-typescript that type-checks against real response shapes', async () => {
    const source = astToString(await openapiTS(spec));
    const dir = await mkdtemp(join(tmpdir(), 'tributary-openapi-'));
    try {
      await writeFile(join(dir, 'api.ts'), source);
      await writeFile(
        join(dir, 'usage.ts'),
        `import type { operations, paths } from './api';
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type GrantList = JsonOf<paths['/v3/grants']['get']['responses'][200]>;
export const grants: GrantList = { request_id: 'r', data: [{ id: 'g', grant_status: 'valid', provider: 'imap', email: 'a@b.c', integration_id: 'i', scope: [], settings: {}, sync_state: {}, last_sync_at: null, error: null, created_at: 1, updated_at: 1 }], next_cursor: null };
export const token: JsonOf<operations['exchangeToken']['responses'][200]>['expires_in'] = 3600;
export const oauthError: JsonOf<operations['exchangeToken']['responses'][400]> = { request_id: 'r', error: 'invalid_grant', error_description: 'd', error_code: 1003 };
export const apiError: JsonOf<operations['listGrants']['responses'][401]> = { request_id: 'r', error: { type: 'unauthorized', message: 'm' } };
export const query: operations['listGrants']['parameters']['query'] = { sort_by: 'updated_at', order_by: 'asc', grant_status: 'invalid', page_token: '10' };
// @ts-expect-error order_by is asc or desc
export const badQuery: operations['listGrants']['parameters']['query'] = { order_by: 'sideways' };
`,
      );
      const program = ts.createProgram([join(dir, 'usage.ts')], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
