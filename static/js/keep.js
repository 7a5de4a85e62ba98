// The patient's program kept on this phone (STACK "Offline"): the JSON of /api/v1/me/today,
// refreshed on every online visit of a page that asks for it, offered by the offline page, and
// cleared at logout with everything else this phone keeps. The only patient data kept. The
// service worker keeps its figures with it (each moving, and still for reduced motion).
import { flush, kept, request, store } from './outbox.js';
import { t } from './i18n.js';

async function keep() {
  try {
    const res = await request('/api/v1/me/today', { cache: 'no-store' });
    if (res.ok && res.body) {
      await store.put('kept', { id: 'today', body: res.body, at: Date.now() });
      const figures = res.body.items.flatMap((i) => (i.exercise.figure_url ? [i.exercise.figure_url, `${i.exercise.figure_url}&frame=start`] : []));
      navigator.serviceWorker?.ready.then((r) => r.active?.postMessage({ figures }));
    } else if (res.status === 404) await store.del('kept', 'today'); // no patient profile here
  } catch {} // offline, or logged out (401): the copy stays for the next session without signal
}

async function logOut(event) {
  // Flush first, then clear what this phone keeps; never lose a report.
  const form = event.target;
  event.preventDefault();
  await Promise.race([flush(), new Promise((r) => setTimeout(r, 4000))]);
  const [waiting, attention] = await Promise.all([store.all('outbox'), store.all('attention')]);
  if (!waiting.length && !attention.length) {
    await store.forget();
  } else if (!confirm(t('Something you did is not sent yet. It stays on this phone and is sent after you log in again. Log out?'))) {
    return;
  } else {
    await store.del('kept', 'today');
  }
  await self.caches?.delete('hs-figures').catch(() => {}); // they show what the program holds
  form.submit();
}

document.querySelector('form[action$="/auth/logout"]')?.addEventListener('submit', logOut);
if (document.querySelector('[data-keep]')) keep();
// The offline page offers the kept session when there is one to start.
const offer = document.querySelector('[data-if-kept]');
if (offer) {
  kept().then((k) => {
    offer.hidden = !(k?.body?.status === 'active' && k.body.items.length);
  });
}
