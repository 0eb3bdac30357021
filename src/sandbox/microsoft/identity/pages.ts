import type { AadError } from './aad-errors.js';
import type { PendingAuth } from './authorize.js';
import { canonicalPermission, OIDC_SCOPES } from '../scopes.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** No scripts at all; the page works with any browser and with plain form posts. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `body{font-family:Segoe UI,Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}ul{padding-left:20px}.err{color:#a80000}
label{display:block;margin:16px 0 4px}input[type=text]{width:100%;padding:6px;box-sizing:border-box}
.buttons{margin-top:24px;display:flex;gap:8px;justify-content:flex-end}button{padding:6px 20px;min-width:108px}
.primary{background:#0067b8;color:#fff;border:none}.note{font-size:12px;color:#555}`;

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
  offline_access: 'Maintain access to data you have given it access to',
  'user.read': 'Sign you in and read your profile',
  'mail.read': 'Read your mail',
  'mail.readbasic': 'Read basic mail properties',
};

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** Sign-in and consent in one page: who signs in (password-less), what the app asks for, Accept or Cancel. */
export function consentPage(p: PendingAuth, error?: AadError): string {
  const items = [...p.scopes].map((s) => {
    const label = SCOPE_TEXT[s] ?? (OIDC_SCOPES.has(s) ? s : canonicalPermission(s));
    return `<li data-scope="${esc(s)}">${esc(label)} <span class="note">(${esc(OIDC_SCOPES.has(s) ? s : canonicalPermission(s))})</span></li>`;
  });
  const err = error ? `<p class="err" role="alert">${esc(error.description)}</p>` : '';
  return layout(
    'Permissions requested',
    `<h1>Permissions requested</h1>
<p><strong id="app-name">${esc(p.app.displayName)}</strong> would like to:</p>
<ul id="scopes">${items.join('')}</ul>
${err}
<form method="post" action="../../login">
<input type="hidden" name="ctx" value="${esc(p.id)}">
<label for="username">Account</label>
<input type="text" id="username" name="username" value="${esc(p.loginHint ?? '')}" autocomplete="username" required>
<div class="buttons">
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
<button type="submit" name="action" value="accept" class="primary">Accept</button>
</div>
</form>
<p class="note">Microsoft sandbox: no password is asked for.</p>`,
  );
}

/** An error the user sees because there is nowhere safe to send them (bad client, redirect URI, tenant). */
export function errorPage(e: AadError, correlationId: string): string {
  return layout(
    'Sign in to your account',
    `<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>
<p class="err" id="error" data-code="${e.code}">${esc(e.description)}</p>
<p class="note">Correlation ID: ${esc(correlationId)}</p>`,
  );
}

/** What the end_session endpoint shows when the app gave no post_logout_redirect_uri. */
export function signedOutPage(): string {
  return layout('Sign out', '<h1>You signed out of your account</h1><p>It\'s a good idea to close all browser windows.</p>');
}
