import { randomBytes } from 'node:crypto';

/** Zoom's ids for users and accounts: 22 URL-safe characters. */
export const zoomId = (): string => randomBytes(16).toString('base64url').slice(0, 22);
export const opaque = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * A user-managed OAuth app on the Marketplace: its credentials, redirect URIs (the "OAuth allow
 * list"), the scopes chosen on the Scopes page (Zoom grants those, not what the authorize URL
 * asks for), and its Feature page: the event subscription URL, the events and the secret token.
 */
export interface ZoomApp {
  clientId: string;
  clientSecret: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  secretToken: string;
  eventUrl: string | null;
  events: Set<string>;
}

export interface ZoomUser {
  id: string;
  accountId: string;
  email: string;
  firstName: string;
  lastName: string;
  timezone: string;
  /** Personal meeting id. */
  pmi: number;
}

export interface NewApp {
  name?: string;
  redirectUris: string[];
  scopes?: string[];
  eventUrl?: string;
  events?: string[];
}

export interface NewUser {
  email: string;
  firstName?: string;
  lastName?: string;
  timezone?: string;
}

export const DEFAULT_APP_SCOPES = ['user:read', 'cloud_recording:read:list_user_recordings', 'cloud_recording:read:recording'];

/** Apps, users and who authorized which app: the sandbox's "Zoom account" state. */
export class Accounts {
  readonly apps = new Map<string, ZoomApp>();
  readonly users = new Map<string, ZoomUser>();
  /** `${clientId} ${userId}` of every installed (authorized, not deauthorized) app. */
  private readonly installs = new Set<string>();

  createApp(input: NewApp): ZoomApp {
    const app: ZoomApp = {
      clientId: opaque(16).slice(0, 20),
      clientSecret: opaque(24),
      name: input.name ?? 'Sandbox app',
      redirectUris: [...input.redirectUris],
      scopes: [...(input.scopes ?? DEFAULT_APP_SCOPES)],
      secretToken: opaque(16),
      eventUrl: input.eventUrl ?? null,
      events: new Set(input.events ?? ['recording.transcript_completed']),
    };
    this.apps.set(app.clientId, app);
    return app;
  }

  requireApp(clientId: string): ZoomApp {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`unknown app ${clientId}`);
    return app;
  }

  createUser(input: NewUser): ZoomUser {
    const email = input.email.trim().toLowerCase();
    if (this.findUser(email)) throw new Error(`a user ${email} already exists`);
    const [local = 'user'] = email.split('@');
    const user: ZoomUser = {
      id: zoomId(),
      accountId: zoomId(),
      email,
      firstName: input.firstName ?? local,
      lastName: input.lastName ?? '',
      timezone: input.timezone ?? 'UTC',
      pmi: 1_000_000_000 + Math.floor(Math.random() * 8_999_999_999),
    };
    this.users.set(user.id, user);
    return user;
  }

  findUser(idOrEmail: string): ZoomUser | undefined {
    const key = idOrEmail.trim().toLowerCase();
    return this.users.get(idOrEmail) ?? [...this.users.values()].find((u) => u.email === key);
  }

  requireUser(idOrEmail: string): ZoomUser {
    const u = this.findUser(idOrEmail);
    if (!u) throw new Error(`unknown user ${idOrEmail}`);
    return u;
  }

  install(clientId: string, userId: string): void {
    this.installs.add(`${clientId} ${userId}`);
  }

  uninstall(clientId: string, userId: string): boolean {
    return this.installs.delete(`${clientId} ${userId}`);
  }

  isInstalled(clientId: string, userId: string): boolean {
    return this.installs.has(`${clientId} ${userId}`);
  }

  /** The apps a user has installed (the ones that hear about that user's meetings). */
  appsOf(userId: string): ZoomApp[] {
    return [...this.apps.values()].filter((a) => this.isInstalled(a.clientId, userId));
  }
}
