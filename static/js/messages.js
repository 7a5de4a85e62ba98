// A message to the therapist through the outbox (DESIGN §4 "Messages"): saved on this phone
// first, then sent; with no signal it goes when the phone is back online, once (its client
// UUID). Without JavaScript the form posts to /messages as a plain form.
import { claim, enqueue, onOutbox, uuid } from './outbox.js';
import { t } from './i18n.js';

for (const form of document.querySelectorAll('form[data-message]')) {
  const status = form.querySelector('[data-message-status]');
  const say = (text) => {
    if (status) status.textContent = text;
  };
  onOutbox(({ type, entry }) => {
    if (entry?.kind !== 'message' || entry.payload.id !== form.dataset.sending) return;
    if (type === 'sent') {
      // The thread shows it (and any reply); elsewhere a line says it went.
      if (form.dataset.thread) location.assign(`${form.dataset.thread}#latest`);
      else say(t('Sent. Your therapist will read it in Homestretch.'));
    } else if (type === 'kept') {
      say(t('Saved on this phone. It will be sent when you are back online.'));
    } else if (type === 'login') {
      say(t('Saved on this phone. Log in again to send it.'));
    }
  });
  form.addEventListener('submit', (event) => {
    const text = form.elements.body.value.trim();
    // Empty or too long: the server's page explains, with the text kept.
    if (!text || text.length + (form.dataset.prefix || '').length > 2000) return;
    event.preventDefault();
    const id = form.elements.client_id.value;
    form.dataset.sending = id;
    claim(id); // this form says what became of it: the outbox box does not say it twice
    const body = `${form.dataset.prefix || ''}${text}`;
    const typed = form.elements.body.value;
    enqueue('message', '/api/v1/me/messages', { id, body }, t('Message to your therapist')).catch(() => {
      // This phone could not keep it (private mode, storage full): send the form as it is.
      form.elements.client_id.value = id;
      form.elements.body.value = typed;
      HTMLFormElement.prototype.submit.call(form);
    });
    // The next message gets a new id; this one is stored once however often it is sent.
    form.elements.client_id.value = uuid();
    form.elements.body.value = '';
    say(t('Sending…'));
  });
}
