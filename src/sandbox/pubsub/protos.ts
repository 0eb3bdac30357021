import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * The google.pubsub.v1 service definitions, loaded from the .proto files the official client
 * ships (so the sandbox speaks exactly the messages the client encodes), with the google.api
 * annotation protos from google-gax beside them. Field names stay snake_case as on the wire.
 */
const require = createRequire(import.meta.url);

function protoRoots(): string[] {
  const pubsub = dirname(require.resolve('@google-cloud/pubsub/package.json'));
  // google-gax exports no package.json: walk up from its entry point to the package folder.
  const entry = require.resolve('google-gax', { paths: [pubsub] });
  const gax = entry.slice(0, entry.lastIndexOf('/google-gax/') + '/google-gax'.length);
  return [join(pubsub, 'build', 'protos'), join(gax, 'build', 'protos')];
}

export interface PubSubServices {
  publisher: grpc.ServiceDefinition;
  subscriber: grpc.ServiceDefinition;
}

let loaded: PubSubServices | null = null;

export function pubsubServices(): PubSubServices {
  if (loaded) return loaded;
  const definition = loadSync('google/pubsub/v1/pubsub.proto', { includeDirs: protoRoots(), keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { google: { pubsub: { v1: Record<string, { service: grpc.ServiceDefinition }> } } };
  loaded = { publisher: pkg.google.pubsub.v1.Publisher!.service, subscriber: pkg.google.pubsub.v1.Subscriber!.service };
  return loaded;
}
