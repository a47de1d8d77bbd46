/**
 * What both consoles (the sandbox's and the receiver's) share in the browser: Preact and htm,
 * served from the project's own node_modules (no CDN, works with no internet), one stylesheet,
 * and the HTML shell with its import map and a strict Content-Security-Policy. It knows nothing of
 * either server; each console's page script and routes live beside the server it belongs to.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';

import { repoRoot } from '../contract/paths';

/** URL path prefix of the shared assets. */
export const CONSOLE_ASSETS = '/console/assets/';

const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact/dist/preact.mjs',
  'hooks.mjs': 'preact/hooks/dist/hooks.mjs',
  'htm.mjs': 'htm/dist/htm.mjs',
};

const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: `${CONSOLE_ASSETS}preact.mjs`,
    'preact/hooks': `${CONSOLE_ASSETS}hooks.mjs`,
    htm: `${CONSOLE_ASSETS}htm.mjs`,
  },
});

// The import map is the page's only inline script; the policy allows it by its hash, nothing else.
const IMPORT_MAP_HASH = `'sha256-${createHash('sha256').update(IMPORT_MAP).digest('base64')}'`;

/** Headers every console response carries: no framing, no sniffing, scripts only from this origin. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': `default-src 'self'; script-src 'self' ${IMPORT_MAP_HASH}; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const cache = new Map<string, ConsoleAsset>();

const read = (name: string, load: () => Buffer, contentType: string): ConsoleAsset => {
  let asset = cache.get(name);
  if (!asset) {
    asset = { contentType, body: load() };
    cache.set(name, asset);
  }
  return asset;
};

/** A shared asset by its URL path (`/console/assets/preact.mjs`, `…/console.css`), or undefined. */
export const consoleAsset = (pathname: string): ConsoleAsset | undefined => {
  if (!pathname.startsWith(CONSOLE_ASSETS)) return undefined;
  const name = pathname.slice(CONSOLE_ASSETS.length);
  const vendored = VENDOR[name];
  // Read from node_modules by path: Preact 11 does not export its .mjs files to require.resolve.
  if (vendored) return read(name, () => readFileSync(join(repoRoot(), 'node_modules', vendored)), 'text/javascript; charset=utf-8');
  if (name === 'console.css') return read(name, () => readFileSync(join(repoRoot(), 'src', 'console', 'console.css')), 'text/css; charset=utf-8');
  return undefined;
};

const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * A console's own browser file (`app.js`, a stylesheet), read from its folder in the repository
 * (`src/sandbox/console`, …): the run commands bundle the server, never these. Only `.js`, `.mjs`
 * and `.css` files directly in that folder; anything else is undefined.
 */
export const consoleFile = (folder: readonly string[], name: string): ConsoleAsset | undefined => {
  const type = TYPES[name.slice(name.lastIndexOf('.'))];
  if (!type || !/^[\w.-]+$/.test(name) || name.startsWith('.')) return undefined;
  const dir = join(repoRoot(), ...folder);
  const path = normalize(join(dir, name));
  if (!path.startsWith(dir + sep)) return undefined;
  try {
    return read(path, () => readFileSync(path), type);
  } catch {
    return undefined;
  }
};

/** What a console serves under `/console/`: a shared asset, else one of its own files; undefined for anything else. */
export const consoleResource = (folder: readonly string[], pathname: string): ConsoleAsset | undefined =>
  consoleAsset(pathname) ?? (pathname.startsWith('/console/') ? consoleFile(folder, pathname.slice('/console/'.length)) : undefined);

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The HTML shell of a console page: title, the shared stylesheet, the import map and the page's own
 * module script (a path on the same server). `data` is handed to the script as `data-*` attributes
 * of the root element (e.g. a CSRF token), escaped.
 */
export const consolePage = (options: { title: string; script: string; data?: Readonly<Record<string, string>> }): string => {
  const data = Object.entries(options.data ?? {})
    .map(([key, value]) => ` data-${key.replace(/[^a-z0-9-]/g, '')}="${escapeHtml(value)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${CONSOLE_ASSETS}console.css">
<script type="importmap">${IMPORT_MAP}</script>
<script type="module" src="${escapeHtml(options.script)}"></script>
</head>
<body>
<div id="app"${data}><noscript>This console needs JavaScript.</noscript></div>
</body>
</html>
`;
};
