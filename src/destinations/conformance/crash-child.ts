/**
 * The writer process the conformance suite kills with SIGKILL. It loads a destination
 * definition from the module named in its environment (a path, so this folder depends on no
 * plug-in), then writes batches forever-ish, printing `acked N` after each batch the destination
 * confirmed: exactly what the delivery engine would commit as the stream's offset.
 */
import { pathToFileURL } from 'node:url';
import { destinationContext, type DestinationDefinition } from '../destination.js';
import { CaptureLogger } from './capture-logger.js';
import { eventRange } from './events.js';

interface ChildSpec {
  module: string;
  exportName: string;
  config: Record<string, unknown>;
  streamId: string;
  dataDir: string;
  prefix: string;
  batch: number;
  total: number;
}

async function main() {
  const spec = JSON.parse(process.env.CONFORMANCE_CHILD ?? '{}') as ChildSpec;
  const mod = (await import(pathToFileURL(spec.module).href)) as Record<string, DestinationDefinition>;
  const def = mod[spec.exportName];
  if (!def) throw new Error(`${spec.module} has no export ${spec.exportName}`);
  const writer = def.create(spec.config, destinationContext({ logger: new CaptureLogger(), now: () => new Date(), allowPrivateAddresses: true, streamId: spec.streamId, dataDir: spec.dataDir }));
  for (let from = 0; from < spec.total; from += spec.batch) {
    const to = Math.min(spec.total, from + spec.batch);
    await writer.write(eventRange(from, to, { prefix: spec.prefix }), new AbortController().signal, 1);
    process.stdout.write(`acked ${to}\n`);
  }
  await writer.close();
  process.stdout.write('done\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`crash child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
