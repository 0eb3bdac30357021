import { describe, expect, it } from 'vitest';
import { DownloadRefused, isZoomUrl, ZoomClient, zoomEndpoints } from './client.js';

const WEB = 'https://zoom.us';

describe('Zoom hosts and endpoints', () => {
  it('only Zoom hosts over https (and the configured origin) count as Zoom', () => {
    for (const ok of ['https://zoom.us/rec/download/x', 'https://us06web.zoom.us/rec/webhook_download/x', 'https://ssrweb.zoom.us/file/x', 'https://api.zoomgov.com/v2', 'https://zoom.com/x']) expect(isZoomUrl(ok, WEB), ok).toBe(true);
    for (const bad of ['http://zoom.us/x', 'https://zoom.us.evil.com/x', 'https://evilzoom.us/x', 'https://169.254.169.254/latest', 'https://user:pw@zoom.us/x', 'https://zoom.us:8443/x', 'file:///etc/passwd', 'not a url']) expect(isZoomUrl(bad, WEB), bad).toBe(false);
    expect(isZoomUrl('http://127.0.0.1:5000/file/1', 'http://127.0.0.1:5000')).toBe(true);
    expect(isZoomUrl('http://127.0.0.1:5001/file/1', 'http://127.0.0.1:5000')).toBe(false);
  });

  it('the API base: api.zoom.us, the token response api_url when it is Zoom, the sandbox origin', () => {
    expect(zoomEndpoints({}).api).toBe('https://api.zoom.us/v2');
    expect(zoomEndpoints({}, 'https://api-eu.zoom.us').api).toBe('https://api-eu.zoom.us/v2');
    expect(zoomEndpoints({}, 'https://attacker.example').api).toBe('https://api.zoom.us/v2');
    expect(zoomEndpoints({ zoom: 'http://127.0.0.1:5000' })).toEqual({ web: 'http://127.0.0.1:5000', api: 'http://127.0.0.1:5000/v2' });
  });

  it('a download redirected off Zoom is refused before any request reaches the other host', async () => {
    const called: string[] = [];
    const fetchStub = (async (input: string | URL | Request) => {
      const url = String(input);
      called.push(url);
      return new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    }) as typeof fetch;
    const client = new ZoomClient({ endpoints: zoomEndpoints({}), fetch: fetchStub, accessToken: async () => 't', refresh: async () => 't' });
    await expect(client.download('https://zoom.us/rec/download/f', 'dl-token')).rejects.toBeInstanceOf(DownloadRefused);
    expect(called).toEqual(['https://zoom.us/rec/download/f']);
    await expect(client.download('https://evil.example/f', 'dl-token')).rejects.toBeInstanceOf(DownloadRefused);
    expect(called).toHaveLength(1);
  });
});
