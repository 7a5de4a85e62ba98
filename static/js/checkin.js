// Check-in and red-flag screen. An emergency answer shows the full-screen instruction at once,
// before and without the server's answer (CLINICAL §6): the texts and the numbers to call come
// with the page, or on the offline page from the program kept on this phone. Then the answers go
// through the outbox.
import { claim, enqueue, h, kept, onOutbox, uuid } from './outbox.js';
import { callButton, callFor, TITLES } from './results.js';
import { t } from './i18n.js';

const form = document.querySelector('[data-checkin]');
const overlay = document.getElementById('rf-overlay');
const texts = {};
const calls = {};
for (const p of document.getElementById('rf-texts')?.content.children || []) {
  const d = p.dataset;
  texts[d.level] = p.textContent;
  if (d.number) calls[d.level] = { number: d.number, who: d.who, label: d.label };
}
let contact = null; // the kept copy's numbers, for the offline page
kept().then((k) => {
  contact = k?.body?.contact || null;
});
const RANK = { none: 0, prompt: 1, urgent: 2, emergency: 3 };
// Said once: the status line says the therapist has been told, and the title thanks the patient.
const TOLD = t('Your therapist has been told.');
const THANKS = t('Thank you.') + ' ';
const plain = (text) => {
  const s = text.replace(TOLD, ' ').replace(/\s+/g, ' ');
  return (s.startsWith(THANKS) ? s.slice(THANKS.length) : s).trim();
};

function answers() {
  const flags = {};
  let level = 'none';
  for (const set of form.querySelectorAll('[data-question]')) {
    const value = set.querySelector('input:checked')?.value;
    if (!value) continue;
    flags[set.dataset.question] = value === 'yes';
    if (value === 'yes') {
      let l = set.dataset.level;
      if (l === 'prompt' && form.dataset.risk === '1') l = 'urgent'; // RF12 raises RF9–RF11
      if (RANK[l] > RANK[level]) level = l;
    }
  }
  return { flags, level };
}

function payload(flags) {
  const body = { id: uuid(), recorded_at: new Date().toISOString(), red_flags: flags, kind: form.dataset.checkin };
  if (body.kind === 'morning') {
    const pain = form.querySelector('input[name="morning_pain"]:checked');
    body.morning_pain = pain ? Number(pain.value) : null;
    body.self_care = [...form.querySelectorAll('input[name="self_care"]:checked')].map((c) => c.value);
  }
  return body;
}

let shown = { level: 'none' }; // the instruction on screen: level, text, call

/** Put whom to call in `slot`, rebuilt only when the number changes (focus stays put). */
function setCall(slot, call) {
  const key = call ? `${call.number}|${call.label}|${call.who}` : '';
  if (slot.dataset.call === key) return;
  slot.dataset.call = key;
  slot.replaceChildren(...callButton(call));
}

function showResult(statusText) {
  const { level } = shown;
  const text = plain(shown.text ?? texts[level]);
  const call = shown.call || calls[level] || callFor(level, contact);
  if (level === 'emergency') {
    document.getElementById('rf-title').textContent = TITLES.emergency;
    document.getElementById('rf-text').textContent = text;
    overlay.querySelector('[data-rf-status]').textContent = statusText;
    setCall(overlay.querySelector('[data-rf-call]'), call);
    if (overlay.hidden) {
      overlay.hidden = false;
      document.body.classList.add('emergency');
      overlay.focus();
    }
    return;
  }
  let box = document.querySelector('.instruction[data-js]');
  if (!box) {
    box = h('section', { 'data-js': '', tabindex: '-1' },
      h('h2'), h('p'), h('div', { 'data-call-slot': '' }), h('p', { class: 'hint' }),
      h('p', { 'data-message-slot': '' }),
      h('a', { class: 'button button-wide', href: '/today' }, t('Back to today')));
    // Under the page's heading, in place of the questions: the instruction and whom to call
    // on the first screen (on the offline page the form sits lower, in "I have a new symptom").
    (form.closest('details') || form).remove();
    document.querySelector('[data-intro]')?.remove();
    document.querySelector('main h1').after(box);
    scrollTo(0, 0);
    box.focus({ preventScroll: true });
  }
  box.className = `instruction instruction-${level}`;
  box.setAttribute('role', level === 'urgent' ? 'alert' : 'status');
  const [title, words, slot, status, message] = box.children;
  title.textContent = TITLES[level];
  words.textContent = text;
  setCall(slot, call);
  // Urgent: a message reaches the therapist when a call does not (never for emergencies).
  // The link sits where the sentence has {link} (t leaves a name it is not given).
  const [before, after] = t('{link} — if you cannot reach them by phone.').split('{link}');
  message.replaceChildren(...(level === 'urgent'
    ? [before, h('a', { class: 'tap', href: '/messages#write' }, t('Message your therapist')), after]
    : []));
  status.textContent = statusText;
}

let sentId = null;
let settled = false;
const KEPT = t('Saved on this phone — will send when online. Do not wait for it.');

async function send(flags, level) {
  const body = payload(flags);
  sentId = body.id;
  claim(sentId); // this screen says what happened to it; the outbox box does not repeat it
  shown = { level };
  form.querySelectorAll('input, button').forEach((el) => {
    el.disabled = true;
  });
  showResult(t('Sending to your therapist…'));
  await enqueue('checkin', '/api/v1/checkins', body, form.dataset.checkin === 'morning' ? t('Morning check-in') : t('New symptom report'));
  if (!settled) showResult(KEPT);
}

onOutbox(({ type, entry, body }) => {
  if (entry.id !== sentId) return;
  settled = type === 'sent' || type === 'refused';
  if (type === 'sent') {
    // The server's level can be higher (it knows the intake answers): then its words show.
    const i = body.instruction;
    if (RANK[i.level] > RANK[shown.level]) shown = { level: i.level, text: i.text };
    if (i.level === shown.level && i.call) shown.call = i.call;
    showResult(shown.level === 'emergency' ? TOLD : t('Sent to your therapist.'));
  } else if (type === 'kept' || type === 'login') {
    showResult(KEPT);
  }
});

function invalid(set, text) {
  set.classList.add('field-invalid');
  if (!set.querySelector('.error')) set.append(h('p', { class: 'error' }, text));
  return set;
}

function clear(set) {
  set.classList.remove('field-invalid');
  set.querySelector('.error')?.remove();
}

/** "None of these": every question not yet answered is answered no; each stays on screen. */
function offerNone() {
  const sets = [...form.querySelectorAll('[data-question]')];
  if (sets.length < 2) return;
  const live = h('p', { class: 'hint', role: 'status' });
  const none = h('button', {
    type: 'button',
    class: 'button button-wide',
    onclick: () => {
      let n = 0;
      for (const set of sets) {
        if (set.querySelector('input:checked')) continue;
        set.querySelector('input[value="no"]').checked = true;
        clear(set);
        n += 1;
      }
      live.textContent = !n ? t('Every question is answered.') : n === 1 ? t('Answered “No” to {n} question. Check them, then send.', { n }) : t('Answered “No” to {n} questions. Check them, then send.', { n });
    },
  }, t('None of these'));
  sets.at(-1).after(none, live);
}

if (form && overlay && 'indexedDB' in window) {
  offerNone();
  form.addEventListener('change', (event) => {
    const set = event.target.closest('[data-question], .scale');
    if (set && event.target.checked) clear(set);
    if (!set?.dataset.question || event.target.value !== 'yes' || set.dataset.level !== 'emergency' || sentId) return;
    // At once: the instruction first, then the answers given so far (a yes is never queued).
    send(answers().flags, 'emergency');
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (sentId) return;
    form.querySelectorAll('.field-invalid').forEach(clear);
    const { flags, level } = answers();
    const problems = [];
    if (level === 'none') {
      for (const set of form.querySelectorAll('[data-question]')) {
        if (!(set.dataset.question in flags)) problems.push(invalid(set, t('Answer yes or no.')));
      }
      const pain = form.querySelector('.scale');
      if (pain && !form.querySelector('input[name="morning_pain"]:checked')) {
        problems.unshift(invalid(pain, t('Choose a number from 0 to 10.')));
      }
    }
    if (problems.length) {
      problems[0].querySelector('input').focus();
      return;
    }
    send(flags, level);
  });
  // An emergency "yes" tapped before this script ran (a slow phone): act on it now, as the tap
  // would have. The forms do not autocomplete, so a reloaded page never carries an old answer.
  const early = answers();
  if (early.level === 'emergency') send(early.flags, 'emergency');
}
