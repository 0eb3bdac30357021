import type { AppContext } from '../../../context.js';
import type { Api } from '../../types.js';

/**
 * Provider notification endpoints (Graph change notifications, Gmail Pub/Sub push, Zoom
 * webhooks). They are public routes authenticated by each provider's own scheme.
 */
export async function registerInbound(_app: Api, _ctx: AppContext): Promise<void> {}
