import type { SetupGuide } from '../provider.js';

/** The scopes a Zoom app needs (granular names; classic apps: `recording:read` and `user:read`). */
export const ZOOM_SCOPES = [
  { name: 'cloud_recording:read:list_user_recordings', why: 'the fallback poll lists the user’s cloud recordings' },
  { name: 'cloud_recording:read:recording', why: 'downloading transcripts when a webhook’s download token has expired' },
  { name: 'user:read:user', why: 'who authorized the app (GET /v2/users/me): the grant’s email and Zoom user id' },
] as const;

export const zoomGuide: SetupGuide = {
  title: 'Set up the app in the Zoom App Marketplace',
  description: 'Create a user-managed OAuth app, then fill in the form with its credentials and webhook secret token.',
  steps: [
    {
      title: 'Create the app',
      text: 'marketplace.zoom.us → **Develop** → **Build App** → **General App**, managed **by users** (each user authorizes it for their own meetings). Use one app per environment.',
    },
    { title: 'Add the redirect URL', text: '**Basic Information** → OAuth Redirect URL, and the same value in the **OAuth Allow List**:', copy: { label: 'redirect URL', value: '{callback_url}', testId: 'redirect-uri' } },
    {
      title: 'Subscribe to the transcript event',
      text: '**Features** → **Access** → turn on **Event Subscription**, method **Webhook**, add the event **Recording → Transcript files have completed** (`recording.transcript_completed`) and this endpoint URL, then press **Validate** (Tributary answers the challenge once the integration is saved with the secret token). Copy the **Secret Token** shown there into the form.',
      copy: { label: 'event notification endpoint URL', value: '{inbound:notifications}', testId: 'event-url' },
    },
    {
      title: 'Add the scopes',
      text: '**Scopes** → Add Scopes:',
      tags: ZOOM_SCOPES.map((s) => ({ name: s.name, why: s.why })),
      tagsTestId: 'scopes',
    },
    { title: 'Copy the credentials', text: '**Basic Information** → App Credentials: the **Client ID** and **Client Secret**. Cloud recording with audio transcripts must be on in the users’ Zoom settings.' },
  ],
};
