import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../api.js';
import type { Connector, Grant } from '../types.js';
import { Button, Callout, Field, errorMessage } from '../ui/basics.js';

/**
 * IMAP has no hosted consent: the admin enters the mailbox's credentials (POST /v3/connect/custom).
 * The server logs in before it creates the grant, so a wrong password is reported here.
 */
export function ImapGrantForm({ email, integration, onDone, onCancel }: { email: string; integration: Connector; onDone: (g: Grant) => void; onCancel: () => void }) {
  const qc = useQueryClient();
  const s = integration.settings;
  // Empty means "the email address", so the field follows the email typed above until changed.
  const [username, setUsername] = useState('');
  const user = username.trim() || email;
  const [password, setPassword] = useState('');
  const [host, setHost] = useState(typeof s.imap_host === 'string' ? s.imap_host : '');
  const [port, setPort] = useState(s.imap_port !== undefined ? String(s.imap_port) : '993');
  const [security, setSecurity] = useState(typeof s.imap_security === 'string' ? s.imap_security : 'tls');
  const [errors, setErrors] = useState<{ username?: string; password?: string; host?: string; port?: string }>({});
  const connect = useMutation({
    mutationFn: () =>
      post<Grant>('/v3/connect/custom', {
        provider: 'imap',
        settings: { imap_username: user, imap_password: password, ...(host.trim() ? { imap_host: host.trim() } : {}), imap_port: Number(port), imap_security: security },
      }),
    onSuccess: (g) => {
      void qc.invalidateQueries({ queryKey: ['grants'] });
      onDone(g);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = Number(port);
    const v = {
      ...(user ? {} : { username: 'Enter the IMAP user name (usually the email address)' }),
      ...(password ? {} : { password: 'Enter the mailbox password (or app password)' }),
      ...(!host.trim() || /^[A-Za-z0-9.:[\]-]+$/.test(host.trim()) ? {} : { host: 'A host name such as imap.example.com' }),
      ...(Number.isInteger(p) && p >= 1 && p <= 65535 ? {} : { port: 'A port between 1 and 65535' }),
    };
    setErrors(v);
    if (!Object.keys(v).length) connect.mutate();
  };
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="IMAP credentials">
      {connect.error ? <Callout tone="danger" title="Could not connect">{errorMessage(connect.error)}</Callout> : null}
      <Field label="User name" hint="Empty: the email address." error={errors.username}>
        {(p) => <input {...p} className="input" autoComplete="off" value={username} placeholder={email} onChange={(e) => setUsername(e.target.value)} />}
      </Field>
      <Field label="Password" hint="Sealed at rest, never shown again. Many providers need an app password." error={errors.password} required>
        {(p) => <input {...p} className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
      </Field>
      <Field label="IMAP host" hint={host ? undefined : 'Empty: the integration’s default.'} error={errors.host}>
        {(p) => <input {...p} className="input" value={host} onChange={(e) => setHost(e.target.value)} placeholder="imap.example.com" />}
      </Field>
      <div className="grid grid-2">
        <Field label="Port" error={errors.port}>
          {(p) => <input {...p} className="input" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />}
        </Field>
        <Field label="Security">
          {(p) => (
            <select {...p} className="select" value={security} onChange={(e) => setSecurity(e.target.value)}>
              <option value="tls">TLS</option>
              <option value="starttls">STARTTLS</option>
              <option value="none">None (testing only)</option>
            </select>
          )}
        </Field>
      </div>
      <div className="row">
        <span className="grow" />
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={connect.isPending}>
          Connect mailbox
        </Button>
      </div>
    </form>
  );
}
