import { lazy, type ComponentType, type ReactNode } from 'react';
import { OverviewPage } from './pages/Overview.js';

/**
 * The route table. The overview ships in the initial bundle (it is the landing page); every
 * other page is a lazily loaded chunk, prefetched when its navigation link is hovered or focused.
 */
const loaders = {
  integrations: () => import('./pages/Integrations.js'),
  integration: () => import('./pages/IntegrationEdit.js'),
  grants: () => import('./pages/Grants.js'),
  grant: () => import('./pages/GrantDetail.js'),
  streams: () => import('./pages/Streams.js'),
  streamNew: () => import('./pages/StreamNew.js'),
  stream: () => import('./pages/StreamDetail.js'),
  events: () => import('./pages/Events.js'),
  settings: () => import('./pages/Settings.js'),
  apiKeys: () => import('./pages/ApiKeys.js'),
};

function page<M, P extends object>(load: () => Promise<M>, pick: (m: M) => ComponentType<P>) {
  return lazy(async () => ({ default: pick(await load()) }));
}

const Integrations = page(loaders.integrations, (m) => m.IntegrationsPage);
const IntegrationEdit = page(loaders.integration, (m) => m.IntegrationEditPage);
const Grants = page(loaders.grants, (m) => m.GrantsPage);
const GrantDetail = page(loaders.grant, (m) => m.GrantDetailPage);
const Streams = page(loaders.streams, (m) => m.StreamsPage);
const StreamNew = page(loaders.streamNew, (m) => m.StreamNewPage);
const StreamDetail = page(loaders.stream, (m) => m.StreamDetailPage);
const Events = page(loaders.events, (m) => m.EventsPage);
const Settings = page(loaders.settings, (m) => m.SettingsPage);
const ApiKeys = page(loaders.apiKeys, (m) => m.ApiKeysPage);

export interface Route {
  pattern: string;
  render: (params: Record<string, string>, query: URLSearchParams) => ReactNode;
  preload?: () => Promise<unknown>;
}

export const ROUTES: Route[] = [
  { pattern: '/', render: () => <OverviewPage /> },
  { pattern: '/overview', render: () => <OverviewPage /> },
  { pattern: '/integrations', render: () => <Integrations />, preload: loaders.integrations },
  { pattern: '/integrations/:provider', render: (p) => <IntegrationEdit provider={p.provider!} />, preload: loaders.integration },
  { pattern: '/grants', render: (_p, q) => <Grants query={q} />, preload: loaders.grants },
  { pattern: '/grants/:id', render: (p) => <GrantDetail id={p.id!} />, preload: loaders.grant },
  { pattern: '/streams', render: () => <Streams />, preload: loaders.streams },
  { pattern: '/streams/new', render: (_p, q) => <StreamNew query={q} />, preload: loaders.streamNew },
  { pattern: '/streams/:id', render: (p) => <StreamDetail id={p.id!} />, preload: loaders.stream },
  { pattern: '/events', render: (_p, q) => <Events query={q} />, preload: loaders.events },
  { pattern: '/settings', render: () => <Settings />, preload: loaders.settings },
  { pattern: '/api-keys', render: () => <ApiKeys />, preload: loaders.apiKeys },
];

export function preloadRoute(path: string): void {
  const r = ROUTES.find((x) => x.pattern === path);
  void r?.preload?.().catch(() => undefined);
}
