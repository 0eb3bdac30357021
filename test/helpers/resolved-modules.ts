import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Runs in a fresh Node process: tsx for the sources, then a resolve hook (registered last, so it
// runs first and sees what tsx resolved) that records every module URL the import asks for.
const CHILD = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const tsx = await import('tsx/esm/api');
tsx.register();
const hook = \`let seen = [];
export function initialize({ port }) { port.on('message', () => port.postMessage(seen)); }
export async function resolve(specifier, context, next) { const r = await next(specifier, context); seen.push(r.url); return r; }\`;
const { port1, port2 } = new MessageChannel();
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
for (const url of process.argv.slice(1)) await import(url);
port1.postMessage('list');
const seen = await new Promise((resolve) => port1.once('message', resolve));
process.stdout.write(JSON.stringify(seen));
process.exit(0);
`;

/** The npm packages (by name) that importing these modules of ours loads, in a fresh process. */
export async function packagesLoadedBy(...modules: URL[]): Promise<string[]> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, ...modules.map((u) => u.href)], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
  );
  const names = new Set<string>();
  for (const url of JSON.parse(stdout) as string[]) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}
