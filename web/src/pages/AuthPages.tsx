import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { post, setCsrfToken } from '../api.js';
import { navigate, useTitle } from '../router.js';
import { SESSION_KEY } from '../session.js';
import type { Session } from '../types.js';
import { Button, Callout, Field, errorMessage } from '../ui/basics.js';

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function AuthFrame({ title, subtitle, children }: { title: string; subtitle: ReactNode; children: ReactNode }) {
  return (
    <main className="auth-page" id="main">
      <div className="auth-card stack">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ≋
          </span>
          Tributary
        </div>
        <section className="card">
          <div className="card-body stack">
            <div className="stack-s">
              <h1>{title}</h1>
              <p className="muted">{subtitle}</p>
            </div>
            {children}
          </div>
        </section>
      </div>
    </main>
  );
}

function useSignedIn() {
  const qc = useQueryClient();
  return (s: Session) => {
    setCsrfToken(s.csrf_token ?? null);
    qc.setQueryData(SESSION_KEY, s);
    navigate('/overview', { replace: true });
  };
}

export function LoginPage() {
  useTitle('Sign in');
  const done = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string; form?: string | null }>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = { ...(EMAIL.test(email.trim()) ? {} : { email: 'Enter the email address of your admin account' }), ...(password ? {} : { password: 'Enter your password' }) };
    setErrors(v);
    if (Object.keys(v).length) return;
    setBusy(true);
    try {
      done(await post<Session>('/dashboard/api/login', { email: email.trim(), password }));
    } catch (err) {
      setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title="Sign in" subtitle="Manage integrations, grants and streams of this Tributary deployment.">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form ? <Callout tone="danger">{errors.form}</Callout> : null}
        <Field label="Email" error={errors.email} required>
          {(p) => <input {...p} className="input" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
        </Field>
        <Field label="Password" error={errors.password} required>
          {(p) => <input {...p} className="input" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Button type="submit" variant="primary" className="btn-block" busy={busy}>
          Sign in
        </Button>
      </form>
    </AuthFrame>
  );
}

export function SetupPage({ token }: { token: string | null }) {
  useTitle('Set up');
  const done = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string; confirm?: string; form?: string | null }>({});
  const [busy, setBusy] = useState(false);
  if (!token) return <SetupRequired />;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = {
      ...(EMAIL.test(email.trim()) ? {} : { email: 'Enter a valid email address' }),
      ...(password.length >= 10 ? {} : { password: 'Use at least 10 characters' }),
      ...(confirm === password ? {} : { confirm: 'The passwords do not match' }),
    };
    setErrors(v);
    if (Object.keys(v).length) return;
    setBusy(true);
    try {
      done(await post<Session>('/dashboard/api/setup', { token, email: email.trim(), password }));
    } catch (err) {
      setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title="Create the admin account" subtitle="This one-time link sets up the first dashboard account. You will use the email and password to sign in from now on.">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form ? <Callout tone="danger">{errors.form}</Callout> : null}
        <Field label="Email" error={errors.email} required>
          {(p) => <input {...p} className="input" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
        </Field>
        <Field label="Password" hint="At least 10 characters. A passphrase is easiest to remember." error={errors.password} required>
          {(p) => <input {...p} className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Field label="Confirm password" error={errors.confirm} required>
          {(p) => <input {...p} className="input" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />}
        </Field>
        <Button type="submit" variant="primary" className="btn-block" busy={busy}>
          Create account and sign in
        </Button>
      </form>
    </AuthFrame>
  );
}

export function SetupRequired() {
  useTitle('Set up');
  return (
    <AuthFrame title="Finish setting up" subtitle="No admin account exists yet.">
      <Callout tone="info" title="Open the setup link from the server's console">
        When Tributary starts without an admin account it prints a one-time link, <code>…/setup?token=…</code>, next to the API key. Open it to create the account. Links
        are valid for 24 hours; restart the server to print a new one.
      </Callout>
    </AuthFrame>
  );
}
