import type { Command } from 'commander';
import { ApiError, apiClient } from './client.js';
import { printObject, printRows } from './output.js';

type Row = Record<string, unknown>;
const json = (cmd: Command) => Boolean(cmd.optsWithGlobals().json);

/** A --set value: JSON when it parses (numbers, booleans, arrays), else the text itself. */
function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The command-line way to supply a setting the API says is missing. */
const OPTION_OF: Record<string, string> = { client_id: '--client-id <id>', client_secret: '--client-secret <secret> (or set TRIBUTARY_CLIENT_SECRET)' };

/**
 * The API names settings (`settings.client_secret`); a CLI user needs the option. When the API
 * refuses a creation for want of settings, name those not given and how to pass them.
 */
function missingOptionHint(err: unknown, given: Row): unknown {
  if (!(err instanceof ApiError) || err.status !== 400) return err;
  const missing = Object.keys(OPTION_OF).filter((k) => err.message.includes(k) && given[k] === undefined);
  if (!missing.length) return err;
  return new ApiError(err.status, err.type, `missing ${missing.map((k) => k.replace('_', ' ')).join(' and ')}: pass ${missing.map((k) => OPTION_OF[k]).join(' and ')} (the API said: ${err.message})`);
}

/** Data commands: thin wrappers over the REST API (TRIBUTARY_URL, TRIBUTARY_API_KEY). */
export function registerDataCommands(program: Command): void {
  const api = () => apiClient();

  const providers = program.command('providers').description('the providers this deployment has registered (/v3/providers)');
  providers.command('list').action(async (_o, cmd: Command) => {
    const { data } = await api().request<Row[]>('GET', '/v3/providers');
    const rows = data.map((p) => ({ ...p, settings: Object.keys(((p.integration_settings_schema as Row | undefined)?.properties as Row | undefined) ?? {}).join(', ') }));
    printRows(rows, ['id', 'name', 'auth', 'settings', 'docs'], json(cmd));
  });

  const integrations = program.command('integrations').description('provider integrations (/v3/connectors)');
  integrations
    .command('list')
    .action(async (_o, cmd: Command) => {
      const { data } = await api().request<Row[]>('GET', '/v3/connectors');
      printRows(data, ['provider', 'name', 'id', 'status', 'secret_status'], json(cmd));
    });
  integrations
    .command('create <provider>')
    .description('create an integration for a registered provider (see `tributary providers list`)')
    .option('--client-id <id>')
    .option('--client-secret <secret>', 'or set TRIBUTARY_CLIENT_SECRET to keep it out of shell history')
    .option('--tenant <tenant>', 'shorthand for --set tenant=<tenant>')
    .option('--set <key=value...>', 'a provider setting (repeatable); the value is parsed as JSON when it can be, e.g. --set backfill_days=7')
    .option('--name <name>')
    .option('--secret-expires-at <date>', 'when the client secret expires (ISO date)')
    .action(async (provider: string, o: Record<string, string | undefined> & { set?: string[] }, cmd: Command) => {
      const secret = o.clientSecret ?? process.env.TRIBUTARY_CLIENT_SECRET;
      const settings: Row = {};
      for (const pair of o.set ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new Error(`--set: "${pair}" is not key=value`);
        const raw = pair.slice(eq + 1);
        settings[pair.slice(0, eq)] = parseValue(raw);
      }
      if (o.clientId) settings.client_id = o.clientId;
      if (secret) settings.client_secret = secret;
      if (o.tenant) settings.tenant = o.tenant;
      if (o.secretExpiresAt) {
        const t = Date.parse(o.secretExpiresAt);
        if (Number.isNaN(t)) throw new Error(`--secret-expires-at: "${o.secretExpiresAt}" is not a date`);
        settings.secret_expires_at = Math.floor(t / 1000);
      }
      const { data } = await api()
        .request<Row>('POST', '/v3/connectors', { provider, settings, ...(o.name ? { name: o.name } : {}) })
        .catch((err: unknown) => {
          throw missingOptionHint(err, settings);
        });
      printObject(data, json(cmd));
    });
  integrations
    .command('delete <provider>')
    .action(async (provider: string) => {
      await api().request('DELETE', `/v3/connectors/${encodeURIComponent(provider)}`);
      console.log(`deleted the ${provider} integration`);
    });

  const grants = program.command('grants').description('connected accounts');
  grants
    .command('list')
    .option('--status <status>', 'valid, expired or revoked')
    .option('--provider <provider>')
    .option('--email <email>')
    .option('--limit <n>', 'page size', '50')
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const q = new URLSearchParams({ limit: o.limit ?? '50' });
      if (o.status) q.set('grant_status', o.status);
      if (o.provider) q.set('provider', o.provider);
      if (o.email) q.set('email', o.email);
      const { data } = await api().request<Row[]>('GET', `/v3/grants?${q}`);
      printRows(data, ['id', 'email', 'provider', 'grant_status', 'created_at'], json(cmd));
    });
  grants.command('show <grant_id>').action(async (id: string, _o, cmd: Command) => {
    const { data } = await api().request<Row>('GET', `/v3/grants/${encodeURIComponent(id)}`);
    printObject(data, json(cmd));
  });
  grants.command('delete <grant_id>').action(async (id: string) => {
    await api().request('DELETE', `/v3/grants/${encodeURIComponent(id)}`);
    console.log(`deleted grant ${id}`);
  });

  const applications = program.command('applications').description('the application of your API key');
  applications.command('show').action(async (_o, cmd: Command) => {
    const { data } = await api().request<Row>('GET', '/v3/applications');
    printObject(data, json(cmd));
  });

  const uris = program.command('redirect-uris').description('where hosted auth may send users back (exact match)');
  uris.command('list').action(async (_o, cmd: Command) => {
    const { data } = await api().request<Row[]>('GET', '/v3/applications/redirect-uris');
    printRows(data, ['id', 'url', 'platform'], json(cmd));
  });
  uris.command('add <url>').action(async (url: string, _o, cmd: Command) => {
    const { data } = await api().request<Row>('POST', '/v3/applications/redirect-uris', { url });
    printObject(data, json(cmd));
  });
  uris.command('remove <id>').action(async (id: string) => {
    await api().request('DELETE', `/v3/applications/redirect-uris/${encodeURIComponent(id)}`);
    console.log(`removed ${id}`);
  });
}
