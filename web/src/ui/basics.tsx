import { useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { ApiError } from '../api.js';
import { Icon, type IconName } from './icons.js';

type Variant = 'primary' | 'danger' | 'danger-solid' | 'ghost' | 'default';

export function Button({
  variant = 'default',
  small,
  busy,
  icon,
  children,
  className,
  ...rest
}: { variant?: Variant; small?: boolean; busy?: boolean; icon?: IconName } & ButtonHTMLAttributes<HTMLButtonElement>) {
  const cls = ['btn', variant !== 'default' ? `btn-${variant}` : '', small ? 'btn-small' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button type="button" className={cls} disabled={busy || rest.disabled} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon ? <Icon name={icon} size={16} /> : null}
      {children}
    </button>
  );
}

export function PageHeader({ title, description, actions, crumbs }: { title: string; description?: ReactNode; actions?: ReactNode; crumbs?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        {crumbs ? <nav className="crumbs" aria-label="Breadcrumb">{crumbs}</nav> : null}
        <h1>{title}</h1>
        {description ? <p>{description}</p> : null}
      </div>
      {actions ? <div className="row">{actions}</div> : null}
    </header>
  );
}

export function Card({ title, description, actions, children, footer, className }: { title?: ReactNode; description?: ReactNode; actions?: ReactNode; children?: ReactNode; footer?: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {title ? (
        <div className="card-head">
          <div>
            <h2>{title}</h2>
            {description ? <p>{description}</p> : null}
          </div>
          {actions ? <div className="row">{actions}</div> : null}
        </div>
      ) : null}
      {children}
      {footer ? <div className="card-foot">{footer}</div> : null}
    </section>
  );
}

const TONES: Record<string, 'ok' | 'warn' | 'danger' | 'info' | 'accent' | ''> = {
  valid: 'ok',
  active: 'ok',
  ok: 'ok',
  delivered: 'ok',
  done: 'ok',
  expired: 'danger',
  revoked: '',
  failed: 'danger',
  error: 'danger',
  dead: 'danger',
  failing: 'warn',
  expiring: 'warn',
  warning: 'warn',
  retry: 'warn',
  partial: 'warn',
  pause: 'info',
  paused: 'info',
  redrive: 'info',
  test: 'accent',
  running: 'info',
};

const LABELS: Record<string, string> = { pause: 'paused' };

/** A status word in a coloured pill; the word itself carries the meaning (not only the colour). */
export function Status({ value }: { value: string }) {
  return <span className={`badge ${TONES[value] ?? ''}`}>{LABELS[value] ?? value}</span>;
}

export function Callout({ tone = 'info', title, children, action }: { tone?: 'info' | 'warn' | 'danger' | 'ok'; title?: ReactNode; children?: ReactNode; action?: ReactNode }) {
  const icon: IconName = tone === 'ok' ? 'check' : tone === 'info' ? 'info' : 'alert';
  return (
    <div className={`callout ${tone}`} role={tone === 'danger' ? 'alert' : 'status'}>
      <Icon name={icon} />
      <div className="grow stack-s">
        {title ? <strong>{title}</strong> : null}
        {children ? <div>{children}</div> : null}
      </div>
      {action}
    </div>
  );
}

/** A label, the control, help text and an error message, wired together for assistive tech. */
export function Field({
  label,
  hint,
  error,
  required,
  children,
  className,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null | undefined;
  required?: boolean;
  className?: string;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean; required?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  const described = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${className ?? ''}`}>
      {/* The required mark is drawn by CSS: the input's own `required` tells assistive tech. */}
      <label htmlFor={id} className={required ? 'required' : undefined}>
        {label}
      </label>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), ...(error ? { 'aria-invalid': true } : {}), ...(required ? { required: true } : {}) })}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" id={errId}>
          {error}
        </span>
      ) : null}
    </div>
  );
}

export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1600);
    return () => clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard API refused (http, permissions): fall back to a selection the user can copy.
      const ta = document.createElement('textarea');
      ta.value = value;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(true);
  };
  return (
    <Button small icon={copied ? 'check' : 'copy'} onClick={() => void copy()} aria-label={`${label}${copied ? ' (copied)' : ''}`}>
      {copied ? 'Copied' : 'Copy'}
    </Button>
  );
}

export function CopyField({ value, label, testId }: { value: string; label: string; testId?: string }) {
  return (
    <div className="copy-field">
      <code data-testid={testId} aria-label={label}>
        {value}
      </code>
      <CopyButton value={value} label={`Copy ${label}`} />
    </div>
  );
}

export function CodeBlock({ code, label, testId }: { code: string; label: string; testId?: string }) {
  return (
    <div className="stack-s">
      <div className="row-between">
        <span className="label">{label}</span>
        <CopyButton value={code} label={`Copy ${label}`} />
      </div>
      <pre className="code" data-testid={testId} tabIndex={0} aria-label={label}>
        {code}
      </pre>
    </div>
  );
}

export function EmptyState({ icon = 'inbox', title, children, actions }: { icon?: IconName; title: string; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="state">
      <div className="state-icon">
        <Icon name={icon} size={22} />
      </div>
      <h2>{title}</h2>
      {children ? <p>{children}</p> : null}
      {actions ? <div className="row">{actions}</div> : null}
    </div>
  );
}

export function ErrorState({ error, retry, what }: { error: unknown; retry?: () => void; what?: string }) {
  if (error instanceof ApiError && error.unavailable) {
    return (
      <EmptyState icon="info" title={`${what ?? 'This feature'} is not available on this server yet`}>
        This Tributary build does not provide the endpoint the page needs ({error.message.replace('no route for ', '')}). Update the server, then reload.
      </EmptyState>
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state error" role="alert">
      <div className="state-icon">
        <Icon name="alert" size={22} />
      </div>
      <h2>Could not load {what ? what.toLowerCase() : 'this page'}</h2>
      <p>{message}</p>
      {retry ? (
        <div className="row">
          <Button icon="refresh" onClick={retry}>
            Try again
          </Button>
        </div>
      ) : null}
    </div>
  );
}

export function Loading({ label = 'Loading', lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div className="card-body stack-s" role="status" aria-live="polite">
      <span className="sr-only">{label}…</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" />
      ))}
    </div>
  );
}

/** A modal on the native <dialog>: focus is trapped and Escape closes it without extra code. */
export function Dialog({ open, onClose, title, children }: { open: boolean; onClose: () => void; title: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open ? (
        <>
          <div className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <Button variant="ghost" className="btn-icon" aria-label="Close" onClick={onClose}>
              <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
                <path d="M18 6L6 18M6 6l12 12" />
              </svg>
            </Button>
          </div>
          <div className="dialog-body">{children}</div>
        </>
      ) : null}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  busy,
  error,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  busy?: boolean;
  error?: string | null;
}) {
  return (
    <Dialog open={open} onClose={onClose} title={title}>
      <div className="stack">
        <div>{children}</div>
        {error ? <Callout tone="danger">{error}</Callout> : null}
        <div className="row">
          <span className="grow" />
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger-solid" busy={busy ?? false} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

export const errorMessage = (e: unknown): string | null => (e ? (e instanceof Error ? e.message : String(e)) : null);
