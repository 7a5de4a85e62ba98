// Homestretch service worker (STACK "Offline"). Versioned static assets: cache first. The
// offline page and the offline player shell (no personal data; the shell plays the program the
// pages keep in IndexedDB): network first. Pages after login are never cached; POSTs are never
// cached. Version {{ version }}.
const VERSION = {{ version|tojson }};
const STATIC = `hs-static-${VERSION}`;
const SHELL = `hs-shell-${VERSION}`;
const ASSETS = {{ assets|tojson }};
const OFFLINE = {{ offline_url|tojson }};
const SESSION = {{ session_url|tojson }};
const MANIFEST = {{ manifest_url|tojson }};
const SHELLS = [OFFLINE, SESSION, MANIFEST];

async function shellResponse(url) {
  // Fetched without cookies, so the cached copy can never hold anyone's data.
  const res = await fetch(url, { credentials: 'omit', cache: 'no-store' });
  if (res.ok) await (await caches.open(SHELL)).put(url, res.clone());
  return res;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    await (await caches.open(STATIC)).addAll(ASSETS);
    await Promise.all(SHELLS.map(shellResponse));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== STATIC && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms));
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

async function page(request) {
  try {
    return await Promise.race([fetch(request), timeout(8000)]);
  } catch {
    // With no signal the player is the shell that plays the kept program; any other page is
    // the offline page (which offers that session).
    const player = /^\/session\/\d+$/.test(new URL(request.url).pathname);
    return (await caches.match(player ? SESSION : OFFLINE)) || (await caches.match(OFFLINE)) || Response.error();
  }
}

async function shell(url) {
  try {
    return await Promise.race([shellResponse(url), timeout(8000)]);
  } catch {
    return (await caches.match(url)) || Response.error();
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/static/')) event.respondWith(cacheFirst(request));
  else if (SHELLS.includes(url.pathname)) event.respondWith(shell(url.pathname));
  else if (request.mode === 'navigate') event.respondWith(page(request));
});

// Background Sync exists only in Chromium; the pages' own flush is the main path.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(self.clients.matchAll().then((all) => all.forEach((c) => c.postMessage('flush'))));
});
