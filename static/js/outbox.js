// Offline outbox (STACK "Offline"): a finished session or check-in is written to IndexedDB
// first, then sent. An entry is deleted only on a 2xx answer; network errors, 5xx and 401 keep
// it; 4xx refusals (409/422…) move it to "needs your attention", never dropped silently.
// The same database keeps the patient's program (the JSON of /api/v1/me/today, refreshed on
// every online visit, cleared at logout) so a session can start with no signal.
import { t } from './i18n.js';

const STORES = ['outbox', 'attention', 'kept'];
const listeners = new Set();
const claimed = new Set();
let dbp = null;
let state = 'idle'; // idle | offline | login
let sentNow = []; // what this page sent: {entry, body}
let flushing = null;
let queued = null;
let timer = null;

function openDb() {
  dbp ||= new Promise((resolve, reject) => {
    const req = indexedDB.open('homestretch', 2);
    req.onupgradeneeded = () => {
      for (const s of STORES) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s, { keyPath: 'id' });
    };
    req.onsuccess = () => {
      // A newer version (another tab) or a logout elsewhere: let go, reopen on the next use.
      req.result.onversionchange = () => {
        req.result.close();
        dbp = null;
      };
      resolve(req.result);
    };
    req.onerror = () => reject(req.error);
  });
  return dbp;
}

async function tx(store, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const x = db.transaction(store, mode);
    const req = fn(x.objectStore(store));
    x.oncomplete = () => resolve(req && req.result);
    x.onerror = x.onabort = () => reject(x.error);
  });
}
const all = (s) => tx(s, 'readonly', (st) => st.getAll());
const put = (s, v) => tx(s, 'readwrite', (st) => st.put(v));
const del = (s, id) => tx(s, 'readwrite', (st) => st.delete(id));

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Listen to {type: 'sent' | 'refused' | 'kept', entry, body}. */
export function onOutbox(fn) {
  listeners.add(fn);
}

/** This page reports entry `id` itself: the outbox box leaves it out (said once, not twice). */
export function claim(id) {
  claimed.add(id);
}

/** The program kept on this phone ({id: 'today', body, at}), or undefined. */
export const kept = () => tx('kept', 'readonly', (st) => st.get('today')).catch(() => undefined);

/** For keep.js: this phone's stores, and forgetting them all at logout. */
export const store = {
  all,
  put,
  del,
  async forget() {
    (await openDb()).close();
    dbp = null;
    indexedDB.deleteDatabase('homestretch');
  },
};
const emit = (type, entry, body) => listeners.forEach((fn) => fn({ type, entry, body }));

/** Save an entry on this phone first, then try to send everything waiting. */
export async function enqueue(kind, url, payload, label) {
  await put('outbox', { id: payload.id, kind, url, payload, label, at: Date.now() });
  navigator.serviceWorker?.ready.then((r) => r.sync?.register('outbox')).catch(() => {});
  render();
  return flush();
}

export async function request(url, options = {}) {
  const ctl = new AbortController();
  const stop = setTimeout(() => ctl.abort(), 15000);
  try {
    const res = await fetch(url, { credentials: 'same-origin', signal: ctl.signal, ...options });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return { status: res.status, ok: res.ok, body };
  } finally {
    clearTimeout(stop);
  }
}

async function freshToken() {
  // CSRF tokens expire: fetch a new one before replaying (STACK "Offline").
  const res = await request('/api/v1/csrf', { cache: 'no-store' });
  if (res.status === 401) return { login: true };
  if (!res.ok || !res.body) throw new Error('no token');
  return { token: res.body.csrf_token };
}

const post = (entry, token) =>
  request(entry.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token },
    body: JSON.stringify(entry.payload),
  });

/** Send everything waiting, oldest first; one flush at a time, and one more queued after it. */
export function flush() {
  if (!flushing) {
    flushing = send().finally(() => {
      flushing = null;
    });
    return flushing;
  }
  queued ||= flushing.then(() => {
    queued = null;
    return flush();
  });
  return queued;
}

async function send() {
  const entries = (await all('outbox')).sort((a, b) => a.at - b.at);
  if (!entries.length) {
    state = 'idle';
    return render();
  }
  let auth;
  try {
    auth = await freshToken();
  } catch {
    state = 'offline';
    entries.forEach((entry) => emit('kept', entry)); // each page says it waits, not "Sending…"
    return render();
  }
  if (auth.login) {
    state = 'login';
    entries.forEach((entry) => emit('login', entry));
    return render();
  }
  state = 'idle';
  for (const entry of entries) {
    let res;
    try {
      res = await post(entry, auth.token);
      if (res.status === 400) {
        auth = await freshToken(); // an expired CSRF token: one retry with a new one
        if (auth.login) res = { status: 401 };
        else res = await post(entry, auth.token);
      }
    } catch {
      state = 'offline';
      emit('kept', entry);
      break;
    }
    if (res.ok) {
      await del('outbox', entry.id);
      sentNow.push({ entry, body: res.body });
      emit('sent', entry, res.body);
    } else if (res.status === 401) {
      state = 'login';
      emit('login', entry);
      break;
    } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      await put('attention', { ...entry, status: res.status, problem: res.body });
      await del('outbox', entry.id);
      emit('refused', entry, res.body);
    } else {
      state = 'offline';
      emit('kept', entry);
      break;
    }
  }
  return render();
}

// ---------------------------------------------------------------------------- what the page shows

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

async function render() {
  const boxes = document.querySelectorAll('[data-outbox]');
  let waiting = [];
  let attention = [];
  try {
    [waiting, attention] = await Promise.all([all('outbox'), all('attention')]);
  } catch {
    return state;
  }
  // A page that reports an entry itself is left to say so, except when a login is needed:
  // then the box's "Log in again" link is the way on.
  if (state !== 'login') waiting = waiting.filter((e) => !claimed.has(e.id));
  clearTimeout(timer);
  if (waiting.length && state !== 'login') timer = setTimeout(flush, 20000);
  for (const box of boxes) {
    const parts = [];
    if (waiting.length) {
      const kinds = new Set(waiting.map((e) => e.kind));
      const word = kinds.size === 1 && (kinds.has('session') || kinds.has('message')) ? [...kinds][0] : 'report';
      const n = waiting.length;
      const what = word === 'session' ? (n === 1 ? t('{n} session', { n }) : t('{n} sessions', { n }))
        : word === 'message' ? (n === 1 ? t('{n} message', { n }) : t('{n} messages', { n }))
        : n === 1 ? t('{n} report', { n }) : t('{n} reports', { n });
      if (state === 'login') {
        const next = encodeURIComponent(location.pathname);
        // The link sits where the sentence has {link} (t leaves a name it is not given).
        const [before, after] = t('{what} saved on this phone. {link} to send it.', { what }).split('{link}');
        parts.push(h('p', { role: 'status' }, before,
          h('a', { href: `/auth/login?next=${next}` }, t('Log in again')), after));
      } else {
        parts.push(h('p', { role: 'status', 'data-waiting': n },
          t('{what} saved on this phone — will send when online.', { what })));
      }
    }
    const sent = sentNow.filter((x) => !claimed.has(x.entry.id));
    if (sent.length) {
      // What the answers mean (a traffic light, an instruction): loaded only when there is one.
      parts.push(...(await import('./results.js')).sentItems(sent));
    }
    if (attention.length) {
      // Rare, so its code loads only when needed.
      const { attentionItem } = await import('./attention.js');
      const fix = { h, uuid, enqueue, remove: (id) => del('attention', id).then(render) };
      parts.push(h('div', { class: 'attention' },
        h('h2', {}, t('Needs your attention')),
        h('ul', {}, ...attention.map((entry) => attentionItem(entry, fix)))));
    }
    box.replaceChildren(...parts);
  }
  return state;
}

// ---------------------------------------------------------------------------- start

if ('indexedDB' in window) {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(`/sw.js?lang=${document.documentElement.lang}`, { scope: '/' }).catch(() => {});
    navigator.serviceWorker.addEventListener('message', (e) => e.data === 'flush' && flush());
  }
  addEventListener('online', flush);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && flush());
  flush();
  // The kept program and logging out: loaded by the pages that have them (not the player).
  if (document.querySelector('form[action$="/auth/logout"], [data-keep], [data-if-kept]')) import('./keep.js');
}
