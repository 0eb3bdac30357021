import { useQuery } from '@tanstack/react-query';
import { get, setCsrfToken } from './api.js';
import type { Session } from './types.js';

export const SESSION_KEY = ['session'] as const;

/** The dashboard session (who is signed in, the CSRF token, the selected application). */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async () => {
      const s = await get<Session>('/dashboard/api/session');
      setCsrfToken(s.csrf_token ?? null);
      return s;
    },
    staleTime: 60_000,
    retry: 1,
  });
}
