import { describe, expect, it } from 'vitest';
import { normalizePem } from './pem.js';

describe('normalizePem', () => {
  it('restores the line breaks a one-line paste removed, and leaves proper PEM alone', () => {
    const body = 'A'.repeat(100);
    const proper = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n${'A'.repeat(36)}\n-----END CERTIFICATE-----\n`;
    expect(normalizePem(`-----BEGIN CERTIFICATE----- ${body} -----END CERTIFICATE-----`)).toBe(proper);
    expect(normalizePem(proper)).toBe(proper);
    const creds = normalizePem('-----BEGIN NATS USER JWT----- eyJ0.eyJ1.sig ------END NATS USER JWT------ -----BEGIN USER NKEY SEED----- SUAB ------END USER NKEY SEED------');
    expect(creds).toContain('-----BEGIN NATS USER JWT-----\neyJ0.eyJ1.sig\n');
  });
});
