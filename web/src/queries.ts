import { useQuery } from '@tanstack/react-query';
import { get } from './api.js';
import type { Application, AppSummary, Connector, Grant, Overview, ProviderInfo, Stream } from './types.js';

/** Queries several pages share; keys start with the resource so a switch can invalidate them all. */
export const useApplication = () => useQuery({ queryKey: ['application'], queryFn: () => get<Application>('/v3/applications') });
export const useApplications = () => useQuery({ queryKey: ['applications'], queryFn: () => get<AppSummary[]>('/dashboard/api/applications') });
export const useConnectors = () => useQuery({ queryKey: ['connectors'], queryFn: () => get<Connector[]>('/v3/connectors') });
export const useStreams = () => useQuery({ queryKey: ['streams'], queryFn: () => get<Stream[]>('/v3/streams?limit=200') });
export const useOverview = (minutes = 60) =>
  useQuery({ queryKey: ['overview', minutes], queryFn: () => get<Overview>(`/dashboard/api/overview?minutes=${minutes}`), refetchInterval: 15_000 });
export const useAllGrants = () => useQuery({ queryKey: ['grants', 'all'], queryFn: () => get<Grant[]>('/v3/grants?limit=200') });
/** The registered providers (they change only with a deployment). */
export const useProviders = () => useQuery({ queryKey: ['providers'], queryFn: () => get<ProviderInfo[]>('/v3/providers'), staleTime: 3600_000 });
/** A provider's display name, or its id while the list loads. */
export const providerName = (list: ProviderInfo[] | undefined, id: string) => list?.find((p) => p.id === id)?.name ?? id;
