import type { AppContext } from '../../../context.js';
import type { HttpOptions } from '../../app.js';
import type { Api } from '../../types.js';
import { registerApiKeyRoutes } from './api-keys.js';
import { registerApplicationSwitcher } from './applications.js';
import { registerAuthRoutes } from './auth-routes.js';
import { sessionAuthenticator } from './session-auth.js';
import { registerStatsRoutes } from './stats.js';

/** The dashboard's own endpoints under /dashboard/api (sign-in, switcher, API keys, aggregates). */
export function registerDashboardRoutes(app: Api, ctx: AppContext): void {
  registerAuthRoutes(app, ctx);
  registerApplicationSwitcher(app, ctx);
  registerApiKeyRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
}

/** What the API role needs for the dashboard: the session authenticator and the routes above. */
export function dashboardHttpOptions(ctx: AppContext): HttpOptions {
  return { authenticators: [sessionAuthenticator(ctx)], extensions: [(app) => registerDashboardRoutes(app, ctx)] };
}
