import type { SetupGuide } from '../provider.js';

export const GMAIL_SCOPES = [
  { name: 'openid', why: 'sign-in (an ID token)' },
  { name: 'email', why: 'the account’s address' },
  { name: 'profile', why: 'the account’s name' },
  { name: 'https://www.googleapis.com/auth/gmail.readonly', why: 'reading mail, history and push (a restricted scope: verification needed for public apps)' },
];

export const googleGuide: SetupGuide = {
  title: 'Set up the app in Google Cloud',
  description: 'Follow these steps in the Google Cloud console, then fill in the form.',
  steps: [
    { title: 'Enable the Gmail API', text: 'Google Cloud console → **APIs & Services** → Library → **Gmail API** → Enable. Use one project per environment.' },
    {
      title: 'Configure the OAuth consent screen',
      text: '**OAuth consent screen**: user type External (or Internal for Workspace only), then publish it. While the app is in **Testing**, Google expires refresh tokens after 7 days and grants stop syncing.',
      tags: GMAIL_SCOPES,
      tagsTestId: 'permissions',
    },
    {
      title: 'Create the OAuth client',
      text: '**Credentials** → Create credentials → OAuth client ID → **Web application**. Authorized redirect URI exactly:',
      copy: { label: 'redirect URI', value: '{callback_url}', testId: 'redirect-uri' },
    },
    {
      title: 'Create the Pub/Sub topic (push, optional)',
      text: '**Pub/Sub** → Create topic, e.g. `projects/<project>/topics/gmail-push`. Grant `gmail-api-push@system.gserviceaccount.com` the **Pub/Sub Publisher** role on it:',
      code: { label: 'gcloud command', value: 'gcloud pubsub topics add-iam-policy-binding gmail-push \\\n  --member=serviceAccount:gmail-api-push@system.gserviceaccount.com \\\n  --role=roles/pubsub.publisher' },
    },
    {
      title: 'Create the push subscription',
      text: 'Subscription on the topic, delivery type **Push**, endpoint exactly the URL below, **Enable authentication** with a service account of yours (enter its email in the form). Leave the audience empty or enter the same value in the form.',
      copy: { label: 'push endpoint', value: '{inbound:notifications}', testId: 'push-endpoint' },
    },
  ],
};
