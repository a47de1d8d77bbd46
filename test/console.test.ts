// The consoles' shared floor: assets served from the project, a page whose only inline script is
// allowed by its hash, and the guard against cross-site requests.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { consoleAsset, consoleFile, consolePage, consoleResource, CONSOLE_SECURITY_HEADERS } from '../src/console/page';
import { crossSiteRefusal, newConsoleToken } from '../src/console/guard';

describe('assets', () => {
  test.each([
    ['/console/assets/preact.mjs', 'text/javascript; charset=utf-8', /export/],
    ['/console/assets/hooks.mjs', 'text/javascript; charset=utf-8', /from\s*"preact"/],
    ['/console/assets/htm.mjs', 'text/javascript; charset=utf-8', /export/],
    ['/console/assets/console.css', 'text/css; charset=utf-8', /--accent/],
  ])('%s', (path, type, content) => {
    const asset = consoleAsset(path);
    expect(asset?.contentType).toBe(type);
    expect(asset?.body.toString('utf8')).toMatch(content);
  });

  test.each(['/console/assets/../package.json', '/console/assets/preact.js', '/console/other.css', '/console/assets/'])('%s is not an asset', (path) => {
    expect(consoleAsset(path)).toBeUndefined();
  });

  test("a console's own files: .js, .mjs and .css in its folder only", () => {
    expect(consoleFile(['src', 'sandbox', 'console'], 'app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    for (const name of ['../routes.ts', '..', '.hidden.js', 'routes.ts', 'missing.js', 'a/b.js', '%2e%2e.js']) {
      expect(consoleFile(['src', 'sandbox', 'console'], name)).toBeUndefined();
    }
  });

  test('what a console serves under /console/: shared assets, then its own files, nothing else', () => {
    const folder = ['src', 'sandbox', 'console'];
    expect(consoleResource(folder, '/console/assets/htm.mjs')).toBe(consoleAsset('/console/assets/htm.mjs'));
    expect(consoleResource(folder, '/console/app.js')).toBe(consoleFile(folder, 'app.js'));
    for (const path of ['/console/assets/missing.mjs', '/console/routes.ts', '/console/../server.ts', '/app.js', '/console/']) {
      expect(consoleResource(folder, path)).toBeUndefined();
    }
  });
});

test('the page holds one inline script, the import map, allowed by its hash and nothing else', () => {
  const html = consolePage({ title: 'T <x>', script: '/console/app.js', data: { token: 'a"b' } });
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
  expect(inline).toHaveLength(1);
  const hash = createHash('sha256').update(inline[0]!).digest('base64');
  const policy = CONSOLE_SECURITY_HEADERS['content-security-policy']!;
  expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(html).toContain('<title>T &lt;x&gt;</title>');
  expect(html).toContain('data-token="a&quot;b"');
});

describe('cross-site requests', () => {
  const token = newConsoleToken();
  const request = (headers: Record<string, string>) => ({ headers: { host: '127.0.0.1:9000', ...headers } }) as unknown as IncomingMessage;

  test('the console page itself is allowed', () => {
    expect(crossSiteRefusal(request({ 'x-console-token': token, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:9000' }), token)).toBeNull();
    expect(crossSiteRefusal(request({ 'x-console-token': token }), token)).toBeNull();
  });

  test.each([
    ['another site', { 'x-console-token': token, 'sec-fetch-site': 'cross-site' }],
    ['the same site on another port', { 'x-console-token': token, 'sec-fetch-site': 'same-site' }],
    ['another origin', { 'x-console-token': token, origin: 'http://127.0.0.1:9001' }],
    ['no token', { 'sec-fetch-site': 'same-origin' }],
    // The last character changed (to one it is not), so the wrong token is never the right one by chance.
    ['a wrong token', { 'x-console-token': `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`, 'sec-fetch-site': 'same-origin' }],
    ['a token of another length', { 'x-console-token': 'short' }],
  ])('%s is refused', (_what, headers) => {
    expect(crossSiteRefusal(request(headers), token)).toEqual(expect.any(String));
  });
});
