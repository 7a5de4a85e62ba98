// Phone notifications (DESIGN §4 "Reminders"): subscribe this browser with the key the server
// publishes (VAPID, RFC 8292) and store the subscription; the service worker shows what comes.
// A notification never carries health data: it says that exercises or a message are waiting.
import { t } from './i18n.js';

const button = document.querySelector('[data-push-subscribe]');
const status = document.querySelector('[data-push-status]');
const say = (text) => {
  if (status) status.textContent = text;
};

function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function store(subscription) {
  const token = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const res = await fetch(button.dataset.subscribeUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token },
    body: JSON.stringify(subscription.toJSON()),
  });
  if (!res.ok) throw new Error(`not stored: ${res.status}`);
}

async function subscribe() {
  button.disabled = true;
  try {
    if ((await Notification.requestPermission()) !== 'granted') {
      say(t('Notifications are blocked for Homestretch. You can allow them in this browser’s site settings.'));
      return;
    }
    const key = await fetch(button.dataset.keyUrl, { credentials: 'same-origin' }).then((r) => r.json());
    const reg = await navigator.serviceWorker.ready;
    const subscription =
      (await reg.pushManager.getSubscription()) ||
      (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.public_key) }));
    await store(subscription);
    button.hidden = true;
    say(t('Notifications are on for this phone. Tick “As phone notifications” and save to have reminders here.'));
  } catch {
    say(t('Notifications could not be turned on just now. Please try again when you have a signal.'));
  } finally {
    button.disabled = false;
  }
}

if (button && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window) {
  navigator.serviceWorker.register(`/sw.js?lang=${document.documentElement.lang}`, { scope: '/' }).catch(() => {});
  navigator.serviceWorker.ready
    .then((reg) => reg.pushManager.getSubscription())
    .then((existing) => {
      if (existing && Notification.permission === 'granted') {
        say(t('Notifications are on for this phone.'));
        return store(existing).catch(() => {}); // keys may have changed: the server refreshes them
      }
      button.hidden = false;
      return undefined;
    })
    .catch(() => {
      button.hidden = false;
    });
  button.addEventListener('click', subscribe);
} else if (status) {
  say(t('This browser cannot show notifications from Homestretch; reminders can come by email.'));
}
