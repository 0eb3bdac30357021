import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has embedded defaults that need no environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 4000, databaseUrl: null, publicUrl: 'http://127.0.0.1:4000' });
    expect(c.dataDir).toMatch(/\.tributary$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'whole number'],
    [{ PORT: '70000' }, 'PORT', 'between 0 and 65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'postgres'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'absolute URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL', 'http'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'one of'],
    [{ TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'maybe' }, 'TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS', 'true or false'],
    [{ TRIBUTARY_API_KEY: 'short' }, 'TRIBUTARY_API_KEY', '24–128'],
    [{ TRIBUTARY_REGION: 'US East' }, 'TRIBUTARY_REGION', 'lowercase'],
    [{ TRIBUTARY_FILE_ROOTS: '/srv/exports,relative/dir' }, 'TRIBUTARY_FILE_ROOTS', 'relative path "relative/dir"'],
    [{ TRIBUTARY_DELIVERY_THREAD: 'both' }, 'TRIBUTARY_DELIVERY_THREAD', 'auto, on or off'],
    [{ TRIBUTARY_DELIVERY_THREAD: 'on' }, 'TRIBUTARY_DELIVERY_THREAD', 'needs DATABASE_URL'],
  ])('names the variable and the problem for %o', (env, variable, problem) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as Error).message).toContain(variable);
    expect((caught as Error).message).toContain(problem);
  });

  it('reads file roots separated by commas or the path delimiter', () => {
    expect(loadConfig({}).fileRoots).toEqual([]);
    expect(loadConfig({ TRIBUTARY_FILE_ROOTS: '/srv/a, /srv/b/:/srv/c,/srv/a' }).fileRoots).toEqual(['/srv/a', '/srv/b', '/srv/c']);
  });

  it('derives the public URL from host and port and strips trailing slashes', () => {
    expect(loadConfig({ PORT: '5000', HOST: '0.0.0.0' }).publicUrl).toBe('http://127.0.0.1:5000');
    expect(loadConfig({ PUBLIC_URL: 'https://streams.example.com/' }).publicUrl).toBe('https://streams.example.com');
  });

  it('places delivery by TRIBUTARY_DELIVERY_THREAD: off unless set; on only with PostgreSQL', () => {
    expect(loadConfig({}).deliveryThread).toBe('off');
    expect(loadConfig({ TRIBUTARY_DELIVERY_THREAD: 'AUTO' }).deliveryThread).toBe('auto');
    expect(loadConfig({ TRIBUTARY_DELIVERY_THREAD: 'on', DATABASE_URL: 'postgres://u@db/tributary' }).deliveryThread).toBe('on');
  });
});
