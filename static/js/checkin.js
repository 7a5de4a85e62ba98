// Check-in and red-flag screen. An emergency answer shows the full-screen instruction at once,
// before and without the server's answer (CLINICAL §6): the texts come with the page, which the
// service worker also keeps as the offline page. Then the answers go through the outbox.
import { enqueue, onOutbox, uuid } from './outbox.js';

const form = document.querySelector('[data-checkin]');
const overlay = document.getElementById('rf-overlay');
const texts = {};
for (const p of document.getElementById('rf-texts')?.content.children || []) {
  texts[p.dataset.level] = p.textContent;
}
const RANK = { none: 0, prompt: 1, urgent: 2, emergency: 3 };
const TITLES = {
  emergency: 'Go to an emergency department now',
  urgent: 'Contact your therapist or doctor today',
  prompt: 'Your therapist will review this',
  none: 'Thank you',
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

function showResult(level, statusText) {
  if (level === 'emergency') {
    document.getElementById('rf-title').textContent = TITLES.emergency;
    document.getElementById('rf-text').textContent = texts.emergency;
    overlay.querySelector('[data-rf-status]').textContent = statusText;
    overlay.hidden = false;
    document.body.classList.add('emergency');
    overlay.focus();
    return;
  }
  let box = document.querySelector('.instruction[data-js]');
  if (!box) {
    box = document.createElement('section');
    box.dataset.js = '';
    box.setAttribute('role', level === 'urgent' ? 'alert' : 'status');
    form.replaceWith(box);
  }
  box.className = `instruction instruction-${level}`;
  const h = document.createElement('h2');
  h.textContent = TITLES[level];
  const p = document.createElement('p');
  p.textContent = texts[level];
  const s = document.createElement('p');
  s.className = 'hint';
  s.textContent = statusText;
  const a = document.createElement('a');
  a.className = 'button button-wide';
  a.href = '/today';
  a.textContent = 'Back to today';
  box.replaceChildren(h, p, s, a);
}

let sentId = null;
let shownLevel = 'none';
let settled = false;

async function send(flags, level) {
  const body = payload(flags);
  sentId = body.id;
  shownLevel = level;
  form.querySelectorAll('input, button').forEach((el) => {
    el.disabled = true;
  });
  showResult(level, 'Sending to your therapist…');
  await enqueue('checkin', '/api/v1/checkins', body, form.dataset.checkin === 'morning' ? 'Morning check-in' : 'New symptom report');
  if (!settled) showResult(shownLevel, 'Saved on this phone — will send when online. Do not wait for it.');
}

onOutbox(({ type, entry, body }) => {
  if (entry.id !== sentId) return;
  settled = type !== 'kept';
  if (type === 'sent') {
    // The server's level can be higher (it knows the intake answers); show the higher one.
    const level = RANK[body.instruction.level] > RANK[shownLevel] ? body.instruction.level : shownLevel;
    shownLevel = level;
    showResult(level, level === 'emergency' ? 'Your therapist has been told.' : 'Sent. Thank you.');
  } else if (type === 'kept') {
    showResult(shownLevel, 'Saved on this phone — will send when online. Do not wait for it.');
  }
});

function invalid(set, text) {
  set.classList.add('field-invalid');
  if (!set.querySelector('.error')) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = text;
    set.append(p);
  }
  return set;
}

if (form && overlay && 'indexedDB' in window) {
  form.addEventListener('change', (event) => {
    const set = event.target.closest('[data-question]');
    if (!set || event.target.value !== 'yes' || set.dataset.level !== 'emergency' || sentId) return;
    // At once: the instruction first, then the answers given so far (a yes is never queued).
    showResult('emergency', 'Sending to your therapist…');
    send(answers().flags, 'emergency');
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (sentId) return;
    form.querySelectorAll('.field-invalid').forEach((el) => el.classList.remove('field-invalid'));
    form.querySelectorAll('.error').forEach((el) => el.remove());
    const { flags, level } = answers();
    const problems = [];
    if (level === 'none') {
      for (const set of form.querySelectorAll('[data-question]')) {
        if (!(set.dataset.question in flags)) problems.push(invalid(set, 'Answer yes or no.'));
      }
      const pain = form.querySelector('.scale');
      if (pain && !form.querySelector('input[name="morning_pain"]:checked')) {
        problems.unshift(invalid(pain, 'Choose a number from 0 to 10.'));
      }
    }
    if (problems.length) {
      problems[0].querySelector('input').focus();
      return;
    }
    send(flags, level);
  });
}
