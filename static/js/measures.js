// Questionnaires (CLINICAL §8): one question per screen, resumable, sent through the outbox.
// The answers given so far stay on this phone (the outbox's database, cleared at logout) so the
// patient can leave and come back; "Send" saves the response in the outbox first (with the UUID
// made when the questionnaire was opened), then sends it to /api/v1/measures.
import { claim, enqueue, h, onOutbox, store } from './outbox.js';
import { t } from './i18n.js';

const form = document.querySelector('form[data-measure]');

function answers() {
  const named = form.dataset.min !== undefined;
  const list = [];
  for (const step of form.querySelectorAll('[data-step]')) {
    const radio = step.querySelector('input[type="radio"]');
    if (!radio) continue;
    const item = radio.name.slice(2);
    const checked = step.querySelector('input[type="radio"]:checked');
    const labelInput = step.querySelector(`[name="l-${item}"]`);
    const label = labelInput ? labelInput.value.trim().replace(/\s+/g, ' ') : '';
    if (named && !checked && !label) continue;
    if (!named && !checked) continue;
    const raw = checked ? checked.value : null;
    // A scale answer is a number; a choice answer is its option's key, even when it is "3".
    const scale = checked?.closest('.scale-grid');
    const answer = { item, value: raw !== null && scale && /^\d+$/.test(raw) ? Number(raw) : raw };
    if (named) answer.label = label;
    list.push(answer);
  }
  return list;
}

if (form && 'indexedDB' in window) {
  const key = `measure:${form.dataset.measure}`;
  const steps = [...form.querySelectorAll('[data-step]')];
  const progress = h('p', { class: 'measure-progress', 'aria-live': 'polite' });
  let at = 0;

  const fields = () => [...form.querySelectorAll('input:not([type="hidden"])')];
  const values = () => Object.fromEntries(fields().filter((el) => el.type !== 'radio' || el.checked).map((el) => [el.name, el.value]));

  function save() {
    const body = { id: form.elements.id.value, values: values(), at };
    return store.put('kept', { id: key, body, at: Date.now() }).catch(() => {});
  }

  function problem(step, text) {
    step.querySelector('.error[data-js]')?.remove();
    if (!text) return step.classList.remove('field-invalid');
    step.classList.add('field-invalid');
    step.append(h('p', { class: 'error', role: 'alert', 'data-js': '' }, text));
    return text;
  }

  function check(step) {
    const radio = step.querySelector('input[type="radio"]');
    if (!radio) return true;
    const rated = step.querySelector('input[type="radio"]:checked');
    const label = step.querySelector('input[name^="l-"]:not([type="hidden"])');
    const named = label ? label.value.trim() : '';
    if (label && !named && rated) return !problem(step, t('Name the activity first.'));
    if (label && named && !rated) return !problem(step, t('Choose how well you can do it.'));
    if (step.hasAttribute('data-required') && !rated) {
      return !problem(step, label ? t('Name an activity and choose how well you can do it.') : t('Choose an answer.'));
    }
    problem(step, '');
    return true;
  }

  function show(index, focus = true) {
    at = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, i) => {
      step.hidden = i !== at;
    });
    const questions = steps.length - 2;
    progress.textContent = at === 0 ? '' : at > questions ? t('All done') : t('{n} of {count}', { n: at, count: questions });
    if (focus) (steps[at].querySelector('h2, legend') || steps[at]).focus?.();
    scrollTo(0, 0);
  }

  steps.forEach((step, i) => {
    const nav = h('div', { class: 'measure-nav' });
    if (i > 0) nav.append(h('button', { type: 'button', class: 'button', 'data-back': '', onclick: () => { show(i - 1); save(); } }, t('Back')));
    if (i < steps.length - 1) {
      const optional = !step.hasAttribute('data-required') && step.querySelector('input[name^="l-"]');
      nav.append(h('button', {
        type: 'button',
        class: 'button button-primary',
        'data-next': '',
        onclick: () => {
          if (!check(step)) return;
          show(i + 1);
          save(); // with the new place, so coming back opens this screen
        },
      }, i === 0 ? t('Start') : optional ? t('Next (or skip)') : t('Next')));
    }
    step.append(nav);
    step.querySelector('h2, legend')?.setAttribute('tabindex', '-1');
  });
  form.prepend(progress);
  form.classList.add('one-by-one');
  // A tap on an answer is saved at once and moves on (a scale or a choice, not a PSFS name).
  form.addEventListener('change', (event) => {
    const step = event.target.closest('[data-step]');
    save();
    if (event.target.type === 'radio' && step && !step.querySelector('input[name^="l-"]:not([type="hidden"])')) {
      problem(step, '');
      setTimeout(() => {
        if (steps.indexOf(step) !== at) return;
        show(at + 1);
        save();
      }, 250);
    }
  });
  form.addEventListener('input', save);

  // Come back to where the patient left off, with the same id (so a resend is one response).
  store.all('kept').then((entries) => {
    const draft = entries.find((e) => e.id === key)?.body;
    if (!draft) return show(0, false);
    form.elements.id.value = draft.id;
    for (const el of fields()) {
      const value = draft.values[el.name];
      if (value === undefined) continue;
      if (el.type === 'radio') el.checked = el.value === value;
      else el.value = value;
    }
    return show(draft.at || 0, false);
  }).catch(() => show(0, false));

  let sentId = null;
  const status = h('p', { role: 'status', class: 'done' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const bad = steps.findIndex((step) => !check(step));
    if (bad >= 0) return show(bad);
    const payload = {
      id: form.elements.id.value,
      instrument: form.dataset.measure,
      completed_at: new Date().toISOString(),
      answers: answers(),
    };
    sentId = payload.id;
    claim(sentId);
    form.querySelectorAll('button, input').forEach((el) => {
      el.disabled = true;
    });
    status.textContent = t('Sending…');
    form.after(status);
    // The draft (with this id) stays until the answers have arrived: a reload before then
    // resumes the same questionnaire, so it is stored once, never twice.
    await enqueue('measure', '/api/v1/measures', payload, form.dataset.name);
    if (status.textContent === t('Sending…')) status.textContent = t('Saved on this phone — will send when online.');
  });
  onOutbox(({ type, entry, body }) => {
    if (entry.id !== sentId) return;
    if (type === 'sent') {
      store.del('kept', key).catch(() => {});
      form.remove();
      status.textContent = t('Thank you — your answers are saved and your therapist can see them.');
      status.after(h('p', {}, h('a', { class: 'button button-primary', href: '/measures' }, t('Next questionnaire'))));
    } else if (type === 'refused') {
      status.textContent = body?.detail || t('Some answers need your attention.');
    } else {
      status.textContent = t('Saved on this phone — will send when online.');
    }
  });
}
