// Homestretch service worker (STACK "Offline"). Versioned static assets: cache first. The
// offline page and the offline player shell (no personal data; the shell plays the program the
// pages keep in IndexedDB): network first. Pages after login are never cached; POSTs are never
// cached. The figures of the kept program (public, their URLs versioned) are kept with it, so a
// session started with no signal shows them (issue 11). The pages register this worker with
// their language (issue 16): the shells are kept in it, with the scripts' words, and a change of
// language is a new worker that keeps the new ones. Version {{ version }}.
const VERSION = {{ (version ~ '-' ~ lang)|tojson }};
const LANG = {{ lang|tojson }};
const STATIC = `hs-static-${VERSION}`;
const SHELL = `hs-shell-${VERSION}`;
const FIGURES = 'hs-figures';
const ASSETS = {{ assets|tojson }};
const OFFLINE = {{ offline_url|tojson }};
const SESSION = {{ session_url|tojson }};
const MANIFEST = {{ manifest_url|tojson }};
const SHELLS = [OFFLINE, SESSION, MANIFEST];

async function shellResponse(url) {
  // Fetched without cookies, so the cached copy can never hold anyone's data.
  const res = await fetch(`${url}?lang=${LANG}`, { credentials: 'omit', cache: 'no-store' });
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
      if (![STATIC, SHELL, FIGURES].includes(key)) await caches.delete(key);
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

/** Keep exactly these figures (the kept program's): fetch the missing ones, drop the others. */
async function keepFigures(urls) {
  const cache = await caches.open(FIGURES);
  const wanted = new Set(urls.map((u) => new URL(u, self.location.origin))
    .filter((u) => u.origin === self.location.origin && u.pathname.startsWith('/figures/'))
    .map((u) => u.href));
  for (const request of await cache.keys()) if (!wanted.has(request.url)) await cache.delete(request);
  await Promise.all([...wanted].map(async (url) => {
    if (await cache.match(url)) return;
    const res = await fetch(url, { credentials: 'omit' }).catch(() => null);
    if (res?.ok) await cache.put(url, res);
  }));
}

async function figure(request) {
  return (await (await caches.open(FIGURES)).match(request)) || fetch(request);
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
  else if (url.pathname.startsWith('/figures/')) event.respondWith(figure(request));
  else if (SHELLS.includes(url.pathname)) event.respondWith(shell(url.pathname));
  else if (request.mode === 'navigate') event.respondWith(page(request));
});

// keep.js sends the figures of the program it keeps: {figures: [url, …]}.
self.addEventListener('message', (event) => {
  if (Array.isArray(event.data?.figures)) event.waitUntil(keepFigures(event.data.figures));
});

// Background Sync exists only in Chromium; the pages' own flush is the main path.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(self.clients.matchAll().then((all) => all.forEach((c) => c.postMessage('flush'))));
});

// Web Push (DESIGN §4 "Reminders"): the payload holds no health data — a title, one sentence and
// a path on this site. A tap opens that page, or focuses a tab already showing it.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const path = typeof data.url === 'string' && /^\/(?!\/)/.test(data.url) ? data.url : '/today';
  event.waitUntil(self.registration.showNotification(data.title || 'Homestretch', {
    body: data.body || {{ _('Your exercises for today are ready.')|tojson }},
    tag: data.tag || 'homestretch',
    icon: '/static/img/icon-192.png',
    data: { path },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.path || '/today', self.location.origin).href;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const tab = open.find((client) => client.url === target);
    return tab ? tab.focus() : self.clients.openWindow(target);
  })());
});
