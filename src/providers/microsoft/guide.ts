import type { SetupGuide } from '../provider.js';

/**
 * What an Entra app registration needs for Tributary: the delegated Microsoft Graph permissions,
 * and the `requiredResourceAccess` block of the app manifest that adds them in one paste. The ids
 * are Microsoft Graph's published permission ids (the same in every tenant).
 */
export const GRAPH_RESOURCE_APP_ID = '00000003-0000-0000-c000-000000000000';

export const GRAPH_PERMISSIONS = [
  { name: 'offline_access', id: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182', why: 'refresh tokens, so sync continues without the user' },
  { name: 'openid', id: '37f7f235-527c-4136-accd-4a02d197296e', why: 'sign-in' },
  { name: 'profile', id: '14dad69e-099b-42c9-810b-d002981feec1', why: 'the account’s name' },
  { name: 'User.Read', id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', why: 'the account’s email address' },
  { name: 'Mail.Read', id: '570282fd-fa5c-430d-a7fd-fc8dc98a9dca', why: 'reading mail and change notifications' },
] as const;

export function requiredResourceAccess(): string {
  const manifest = [{ resourceAppId: GRAPH_RESOURCE_APP_ID, resourceAccess: GRAPH_PERMISSIONS.map((p) => ({ id: p.id, type: 'Scope' })) }];
  return JSON.stringify(manifest, null, 2);
}

export const microsoftGuide: SetupGuide = {
  title: 'Set up the app in Microsoft Entra',
  description: 'Follow these steps in the Azure portal, then fill in the form.',
  steps: [
    {
      title: 'Register an application',
      text: 'Azure portal → Microsoft Entra ID → **App registrations** → **New registration**. Choose who may sign in (the same choice as “Accounts” in the form). Use one app per environment: staging and production are separate registrations.',
    },
    { title: 'Add the redirect URI', text: 'Platform **Web**, redirect URI exactly:', copy: { label: 'redirect URI', value: '{callback_url}', testId: 'redirect-uri' } },
    {
      title: 'Add the API permissions',
      text: '**API permissions** → Add a permission → Microsoft Graph → **Delegated**:',
      tags: GRAPH_PERMISSIONS.map((p) => ({ name: p.name, why: p.why })),
      tagsTestId: 'permissions',
      code: { intro: 'Or open **Manifest** and replace `requiredResourceAccess` with:', label: 'Manifest JSON', value: requiredResourceAccess(), testId: 'manifest' },
    },
    {
      title: 'Create a client secret',
      text: '**Certificates & secrets** → New client secret. Copy its **Value** (not the Secret ID) and note the expiry date: Tributary warns you 30 days before it passes.',
    },
  ],
};
