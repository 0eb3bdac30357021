import { describe, expect, it } from 'vitest';
import { parseKeyRing } from '../crypto/keyring.js';
import { createSealer } from '../crypto/sealing.js';
import type { DestinationDefinition } from '../destinations/destination.js';
import { webhookDestination as webhook } from '../destinations/webhook/definition.js';
import { maskedConfig, mergeForUpdate, openSecrets, sealSecrets, SECRET_MASK, splitSecrets } from './destination-config.js';

const webhookDestination = webhook as unknown as DestinationDefinition;
const sealer = createSealer(parseKeyRing(`k:${Buffer.alloc(32, 3).toString('base64')}`));

/** Webhook custom headers carry receiver tokens: sealed at rest, each value masked when shown, kept on a round trip. */
describe('webhook custom headers are secrets', () => {
  const config = { url: 'https://example.com/hook', secret: 'a-signing-secret-0123456789', headers: { Authorization: 'Bearer receiver-token-123', 'X-Env': 'prod' } };

  it('are sealed, not stored in clear', () => {
    const { plain, secrets } = splitSecrets(webhookDestination, config);
    expect(JSON.stringify(plain)).not.toContain('receiver-token-123');
    const sealed = sealSecrets(sealer, 'str_1', secrets)!;
    expect(sealed).not.toContain('receiver-token-123');
    expect(openSecrets(sealer, 'str_1', sealed).headers).toEqual(config.headers);
  });

  it('are shown with masked values, and a masked round trip keeps them', () => {
    const { plain, secrets } = splitSecrets(webhookDestination, config);
    const shown = maskedConfig(webhookDestination, plain, secrets);
    expect(shown.headers).toEqual({ Authorization: SECRET_MASK, 'X-Env': SECRET_MASK });
    expect(JSON.stringify(shown)).not.toContain('receiver-token-123');
    const merged = mergeForUpdate(webhookDestination, config, { ...shown, headers: { ...(shown.headers as object), 'X-New': 'v' } });
    expect(merged.headers).toEqual({ Authorization: 'Bearer receiver-token-123', 'X-Env': 'prod', 'X-New': 'v' });
  });
});
