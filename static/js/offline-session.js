// The offline player shell (STACK "Offline"): the page holds no personal data; this script
// builds today's session from the program kept on this phone (the JSON of /api/v1/me/today) and
// hands it to the same player, whose finished session goes through the same outbox.
import { h, kept } from './outbox.js';
import { start } from './player.js';
import { t } from './i18n.js';

const form = document.querySelector('[data-player][data-offline]');
const template = document.getElementById('step-template');
const sided = new Set((form?.dataset.sided || '').split(' '));
const SIDE = { left: t('left side'), right: t('right side'), both: t('each side'), alternating: t('alternating sides') };

const secs = (s) => {
  const m = Math.floor(s / 60);
  const r = s % 60;
  return m && r ? `${m} min ${r} s` : m ? `${m} min` : `${r} s`;
};

/** The dose in plain words, as the server's `dose` filter says it. */
function dose(i, perSide) {
  const p = [];
  const n = i.sets;
  if (i.reps_per_set?.length) p.push(t('{n} sets of {reps}', { n: i.reps_per_set.length, reps: i.reps_per_set.join(', ') }));
  else if (i.reps) p.push(n > 1 ? `${n} × ${i.reps}` : t('{reps} reps', { reps: i.reps }));
  else if (i.distance_m) p.push(n > 1 ? `${n} × ${i.distance_m} m` : `${i.distance_m} m`);
  else if (i.duration_seconds) p.push(n > 1 ? `${n} × ${secs(i.duration_seconds)}` : secs(i.duration_seconds));
  else if (i.hold_seconds) p.push(n > 1 ? t('{n} × hold', { n }) : t('hold'));
  if (i.hold_seconds) p.push(t('{time} hold', { time: secs(i.hold_seconds) }));
  if ((i.side && i.side !== 'both') || (i.side === 'both' && perSide)) p.push(SIDE[i.side] || i.side);
  if (i.load) p.push(i.load);
  return p.join(' · ');
}

/** One exercise screen from the template, named for its program item (ex<id>-…). */
function step(item, index, count) {
  const section = template.content.firstElementChild.cloneNode(true);
  for (const el of [section, ...section.querySelectorAll('[id], [name], [for], [aria-labelledby]')]) {
    for (const attr of ['id', 'name', 'for', 'aria-labelledby']) {
      const v = el.getAttribute(attr);
      if (v) el.setAttribute(attr, v.replace(/^ex0(?=-)/, `ex${item.id}`));
    }
  }
  const perSide = item.per_side ?? sided.has(item.exercise.slug);
  const data = {
    item: item.id, sets: item.sets, rest: item.rest_seconds, reps: item.reps, rps: item.reps_per_set?.join(','),
    hold: item.hold_seconds, duration: item.duration_seconds, sides: perSide ? 2 : null,
    alt: perSide && item.side === 'alternating' ? 1 : null,
  };
  for (const [k, v] of Object.entries(data)) if (v) section.dataset[k] = v;
  section.querySelector('h2 small').textContent = t('{n} of {count}', { n: index, count });
  section.querySelector('h2 span').textContent = item.exercise.name;
  section.querySelector('.dose').textContent = dose(item, perSide);
  // The figures were kept by the service worker with the program (issue 11).
  const figure = section.querySelector('.figure');
  const { figure_url: url, figure_alt: alt } = item.exercise;
  if (url) {
    figure.querySelector('source').srcset = `${url}&frame=start`;
    Object.assign(figure.querySelector('img'), { src: url, alt: alt || item.exercise.name });
  } else figure.remove();
  section.querySelector('.steps').append(...item.exercise.steps.map((s) => h('li', {}, s)));
  const cues = section.querySelector('.cues');
  if (item.exercise.cues.length) cues.textContent = item.exercise.cues.join(' · ');
  else cues.remove();
  return section;
}

async function build() {
  const copy = await kept();
  const today = copy?.body;
  if (!today || today.status === 'none' || !today.items.length) return; // "not on this phone yet" stays
  document.querySelector('[data-none]').hidden = true;
  const when = new Date(copy.at).toLocaleString(document.documentElement.lang, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const v = { stage: today.stage, n: today.items.length, when };
  document.querySelector('[data-meta]').textContent = v.n === 1
    ? t('Stage {stage} · {n} exercise · kept on this phone {when}', v)
    : t('Stage {stage} · {n} exercises · kept on this phone {when}', v);
  if (today.status !== 'active') {
    const stopped = document.querySelector(`[data-stopped="${today.status}"]`);
    if (stopped) stopped.hidden = false;
    return;
  }
  form.dataset.program = today.program_id;
  const after = form.querySelector('[data-step]:last-of-type');
  today.items.forEach((item, i) => after.before(step(item, i + 1, today.items.length)));
  form.hidden = false;
  start(form);
}

if (form && template && 'indexedDB' in window && window.FormData) build();
