// Guided player: timers, set counter, sides, beep; without this script the page is one plain
// form. The offline shell (offline-session.js) builds the same form from the kept program.
import { claim, enqueue, h, onOutbox, uuid } from './outbox.js';
import { t } from './i18n.js';

const quiet = matchMedia('(prefers-reduced-motion: reduce)');
let audio = null;
let wake = null;

const soundOn = () => localStorage.getItem('hs-sound') === '1';
// Spoken cues (issue 11): the browser's own speech synthesis, no network; voice.js is loaded
// only once the voice is on, and the player works the same without it.
const canSpeak = 'speechSynthesis' in window && 'SpeechSynthesisUtterance' in window;
const voiceOn = () => canSpeak && localStorage.getItem('hs-voice') === '1';
let voice = null;
/** Say a cue ('name', 'next', 'hold', 'count', 'relax', 'rest', 'switch', 'done') aloud. */
function say(cue, value) {
  if (!voiceOn()) return;
  voice ||= import('./voice.js');
  voice.then((v) => v.say(cue, value)).catch(() => {});
}

function signal() {
  if (!soundOn()) return;
  try {
    audio ||= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.18);
  } catch {}
  if (!quiet.matches) navigator.vibrate?.(200);
}

const num = (v) => (v === null || v === '' || v === undefined ? null : Number(v));
const ints = (s) => (s ? s.split(',').map(Number) : []);
const SIDES = [t('Left side'), t('Right side')];
/** 295 → "4:55" on a long timer, 8 → "8" on a short one. */
export const clock = (s, long) => (long ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` : String(s));
/** 300 → "5 minutes", 75 → "1 minute 15 seconds", 10 → "10 seconds" (for the screen reader). */
const spoken = (s) => {
  const m = Math.floor(s / 60);
  const n = s % 60;
  return [m && (m === 1 ? t('{n} minute', { n: m }) : t('{n} minutes', { n: m })), (n || !m) && (n === 1 ? t('{n} second', { n }) : t('{n} seconds', { n }))].filter(Boolean).join(' ');
};

/** The timer and set counter of one exercise screen; `next` moves on to the next screen. */
function exerciseTimer(section, announce, next, nextLabel) {
  const d = section.dataset;
  const sets = Number(d.sets) || 1;
  const perSet = ints(d.rps);
  const reps = num(d.reps);
  const hold = num(d.hold);
  const duration = num(d.duration);
  const rest = num(d.rest) || 0;
  const sides = Number(d.sides) === 2 ? 2 : 1;
  const relax = Math.min(3, Math.max(1, rest));
  const kind = hold ? 'hold' : duration ? 'time' : 'count';
  // Alternating holds swap sides each hold; an alternating set at your own pace is one tap;
  // anything else on each side is done left, then right (CLINICAL §7 "each side").
  const alt = sides === 2 && d.alt === '1';
  const blocks = sides === 2 && !alt ? 2 : 1;
  const repsIn = (s) => (perSet.length ? perSet[s] : reps || 1);
  const holdsIn = (s) => repsIn(s) * (alt ? 2 : 1);
  const result = { sets_done: 0, reps_done: 0, hold_seconds: null };
  const done = [0, 0]; // repetitions done on each side, in the prescription's units
  let set = 0;
  let side = 0;
  let rep = 0;
  let phase = 'ready';
  let tick = null;
  let ends = 0;
  let long = false;

  const count = h('p', { class: 'count', 'aria-hidden': 'true' });
  const phaseText = h('p', { class: 'phase' });
  const progress = h('p', { class: 'progress' });
  const main = h('button', { type: 'button', class: 'button button-primary', onclick: press });
  const again = h('button', { type: 'button', class: 'button', hidden: '', onclick: restart }, t('Start again'));
  const box = h('div', { class: 'timer' }, phaseText, count, progress, main, again);
  // The figure and the timer side by side (stacked on a narrow phone): one screen, one hand.
  const figure = section.querySelector('.figure');
  const play = figure ? h('div', { class: 'play' }) : box;
  section.querySelector('.steps').before(play);
  if (figure) play.append(figure, box);

  const sideNow = () => (alt && kind === 'hold' ? rep % 2 : side);
  // An alternating set or bout counts on both sides; otherwise the side being done.
  const credit = (n) => {
    if (alt && kind !== 'hold') done[1] += n;
    done[alt && kind !== 'hold' ? 0 : sideNow()] += n;
    result.reps_done = sides === 2 ? Math.min(done[0], done[1]) : done[0];
  };

  function draw(seconds) {
    const finished = phase === 'done';
    box.className = `timer ${phase === 'hold' || phase === 'time' ? 'running' : phase}`;
    section.classList.toggle('is-done', finished);
    again.hidden = !finished;
    const text = seconds === undefined ? '' : clock(seconds, long);
    if (phase === 'hold' && text !== count.textContent && seconds < hold) say('count', seconds);
    count.textContent = text;
    const v = { n: Math.min(set + 1, sets), sets, rep: rep + 1, reps: holdsIn(set), side: SIDES[side] };
    progress.textContent = kind === 'hold' && !finished ? t('Set {n} of {sets} · hold {rep} of {reps}', v) : t('Set {n} of {sets}', v);
    const own = kind === 'count';
    phaseText.textContent = {
      ready: blocks === 2
        ? own ? t('{side}: do the set at your own pace', v) : t('{side}: ready when you are', v)
        : alt && own ? t('Swap sides each time. Do the set at your own pace') : own ? t('Do the set at your own pace') : t('Ready when you are'),
      hold: alt ? t('Hold · {side}', { side: SIDES[sideNow()] }) : t('Hold'),
      relax: t('Relax'),
      time: t('Keep going'),
      rest: t('Rest'),
      done: t('Exercise done — well done'),
    }[phase];
    main.textContent = {
      ready: own ? (blocks === 2 ? t('{side} done', v) : t('Set done')) : kind === 'hold' ? t('Start hold') : t('Start'),
      hold: t('Stop'),
      relax: t('Stop'),
      time: t('Stop'),
      rest: t('Skip rest'),
      done: nextLabel,
    }[phase];
  }

  function countdown(seconds, then) {
    clearInterval(tick);
    long = seconds >= 60;
    ends = Date.now() + seconds * 1000;
    draw(seconds);
    tick = setInterval(() => {
      const left = Math.ceil((ends - Date.now()) / 1000);
      if (left > 0) return draw(left);
      clearInterval(tick);
      then();
    }, 200);
  }

  /** One side of the set is finished: the other side next, or the set is done. */
  function sideDone() {
    rep = 0;
    if (side + 1 < blocks) {
      side += 1;
      phase = 'ready';
      signal();
      say('switch');
      announce(kind === 'count' ? t('{side} now. Tap when done.', { side: SIDES[side] }) : t('{side} now. Ready when you are.', { side: SIDES[side] }));
      return draw();
    }
    side = 0;
    finishSet();
  }

  function finishSet() {
    result.sets_done = set + 1;
    set += 1;
    rep = 0;
    if (set >= sets) {
      phase = 'done';
      section.querySelector('input[name$="-status"][value="done"]').checked = true;
      signal();
      say('done');
      announce(t('Exercise done. {next} when you are ready.', { next: nextLabel }));
      return draw();
    }
    if (rest > 0) {
      phase = 'rest';
      signal();
      say('rest', rest);
      announce(t('Rest {time}. Then set {n} of {sets}.', { time: spoken(rest), n: set + 1, sets }));
      return countdown(rest, () => {
        phase = 'ready';
        signal();
        announce(t('Set {n} of {sets}. Ready when you are.', { n: set + 1, sets }));
        draw();
      });
    }
    phase = 'ready';
    draw();
  }

  function startHold() {
    phase = 'hold';
    say('hold', hold);
    announce(alt ? t('{side}: hold {time}', { side: SIDES[sideNow()], time: spoken(hold) }) : t('Hold {time}', { time: spoken(hold) }));
    countdown(hold, () => {
      credit(1);
      rep += 1;
      result.hold_seconds = hold;
      if (rep >= holdsIn(set)) return sideDone();
      phase = 'relax';
      signal();
      say(alt ? 'switch' : 'relax');
      countdown(relax, startHold);
    });
  }

  function restart() {
    clearInterval(tick);
    set = side = rep = 0;
    phase = 'ready';
    draw();
    main.focus();
  }

  function press() {
    wake ||= navigator.wakeLock?.request('screen').catch(() => null);
    if (phase === 'done') return next();
    if (phase === 'ready' && kind === 'hold') return startHold();
    if (phase === 'ready' && kind === 'time') {
      phase = 'time';
      announce(t('Keep going for {time}', { time: spoken(duration) }));
      return countdown(duration, () => {
        credit(1);
        sideDone();
      });
    }
    if (phase === 'ready') {
      credit(repsIn(set));
      return sideDone();
    }
    clearInterval(tick);
    phase = 'ready'; // stopped during a hold or a bout: that one starts again; a rest is skipped
    draw();
  }

  draw();
  return {
    result,
    stop: () => clearInterval(tick),
    progressed: () => result.sets_done > 0 || done[0] > 0 || done[1] > 0,
    complete: () => result.sets_done >= sets,
  };
}

export function start(form) {
  const steps = [...form.querySelectorAll('[data-step]')];
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const announce = (text) => {
    live.textContent = text;
  };
  const timers = new Map();
  const sessionId = uuid();
  const started = new Date();
  const pain = () => form.querySelector('input[name="pain_before"]:checked');
  let current = 0;
  claim(sessionId); // this page reports its own session: the outbox box does not say it twice

  /** A switch remembered on this phone: the beep, and the voice (its mute). */
  const toggle = (id, text) => {
    const box = h('input', { type: 'checkbox', id });
    box.checked = localStorage.getItem(`hs-${id}`) === '1';
    box.addEventListener('change', () => {
      localStorage.setItem(`hs-${id}`, box.checked ? '1' : '0');
      if (!box.checked && id === 'voice') speechSynthesis.cancel();
    });
    steps[0].append(h('label', { class: 'check sound', for: id }, box, h('span', {}, text)));
  };
  toggle('sound', t('Beep and vibrate when a timer ends'));
  if (canSpeak) toggle('voice', t('Say the steps aloud'));
  form.before(live);

  const error = (step, text) => {
    let p = step.querySelector('.js-error');
    if (!p) {
      p = h('p', { class: 'error js-error', role: 'alert' });
      const nav = step.querySelector('.nav-buttons');
      if (nav) nav.before(p);
      else step.append(p);
    }
    p.textContent = text;
    return false;
  };

  /** Whether the step has what it needs to move on (a pain rating; how the exercise went). */
  function ready(step) {
    if (step === steps[0]) return !!pain();
    const timer = timers.get(step);
    return !timer || !!step.querySelector('input[name$="-status"]:checked') || timer.progressed();
  }

  function canLeave(step) {
    step.querySelector('.js-error')?.remove();
    if (!ready(step)) return error(step, step === steps[0] ? t('Choose a number from 0 to 10 first.') : t('Choose done, partly or skipped.'));
    const timer = timers.get(step);
    if (timer && !step.querySelector('input[name$="-status"]:checked')) {
      step.querySelector(`input[name$="-status"][value="${timer.complete() ? 'done' : 'partial'}"]`).checked = true;
    }
    return true;
  }

  // An error goes as soon as what it asked for is given.
  form.addEventListener('change', (event) => {
    const step = event.target.closest('[data-step]');
    if (step && ready(step)) step.querySelector('.js-error')?.remove();
    const set = event.target.closest('.field-invalid');
    if (set && event.target.checked) {
      set.classList.remove('field-invalid');
      set.querySelector('.error')?.remove();
    }
  });

  function show(index) {
    steps[current].classList.remove('current');
    current = index;
    const step = steps[current];
    step.classList.add('current');
    const heading = step.querySelector('h2');
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
    const behavior = quiet.matches ? 'auto' : 'instant';
    if (step.classList.contains('exercise')) {
      say(steps[index - 1].classList.contains('exercise') ? 'next' : 'name', heading.lastChild.textContent.trim());
    }
    if (index === 0) scrollTo({ top: 0, behavior });
    else step.scrollIntoView({ block: 'start', behavior }); // the timer fits the first screen
  }

  steps.forEach((step, i) => {
    const label = i === 0 ? t('Start') : i === steps.length - 2 ? t('Next: finish') : t('Next exercise');
    const go = () => {
      if (!canLeave(step)) return;
      timers.get(step)?.stop();
      show(i + 1);
    };
    if (step.classList.contains('exercise')) timers.set(step, exerciseTimer(step, announce, go, label));
    const nav = h('div', { class: 'nav-buttons' });
    if (i > 0) nav.append(h('button', { type: 'button', class: 'button', onclick: () => show(i - 1) }, t('Back')));
    if (i < steps.length - 1) nav.append(h('button', { type: 'button', class: 'button button-primary', onclick: go }, label));
    step.append(nav);
  });
  form.classList.add('js-player');
  steps[0].classList.add('current');

  const summary = h('section', { class: 'summary', 'aria-live': 'polite' });
  form.after(summary);

  function report() {
    const data = new FormData(form);
    const exercises = [];
    for (const step of steps.filter((s) => s.dataset.item)) {
      const status = step.querySelector('input[name$="-status"]:checked')?.value;
      if (!status) continue;
      const r = timers.get(step).result;
      const reason = step.querySelector('input[name$="-skip_reason"]').value.trim();
      exercises.push({
        program_item_id: Number(step.dataset.item),
        status,
        sets_done: status === 'skipped' ? 0 : r.sets_done || null,
        reps_done: status === 'skipped' ? 0 : r.reps_done || null,
        hold_seconds: r.hold_seconds,
        pain_during: num(step.querySelector('select[name$="-pain_during"]').value),
        skip_reason: reason || null,
      });
    }
    return {
      id: sessionId,
      program_id: Number(form.dataset.program),
      started_at: started.toISOString(),
      completed_at: new Date().toISOString(),
      pain_before: num(data.get('pain_before')),
      pain_after: num(data.get('pain_after')),
      effort: num(data.get('effort')),
      notes: (data.get('notes') || '').trim(),
      exercises,
    };
  }

  async function showSummary(body, state) {
    const back = h('a', { class: 'button button-wide', href: '/today' }, t('Back to today'));
    // The traffic light's card is shared with the outbox box, and loaded once there is one.
    const card = body ? (await import('./results.js')).lightCard(body) : [h('p', { class: 'notice' }, state)];
    summary.replaceChildren(h('h2', { tabindex: '-1' }, body ? t('Session saved') : t('Session finished')), ...card, back);
    summary.querySelector('h2').focus();
  }

  let settled = false;
  onOutbox(({ type, entry, body }) => {
    if (entry.id !== sessionId) return;
    settled = type === 'sent' || type === 'refused';
    if (type === 'sent') showSummary(body);
    else if (type === 'refused') showSummary(null, t('The server could not accept this session: see “Needs your attention” above.'));
    else showSummary(null, t('Saved on this phone — will send when online.'));
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!pain()) {
      show(0);
      return error(steps[0], t('Choose a number from 0 to 10 first.'));
    }
    form.querySelector('[type="submit"]').disabled = true;
    timers.forEach((x) => x.stop());
    const payload = report();
    form.hidden = true;
    showSummary(null, t('Saving…'));
    const day = new Date().toLocaleDateString(document.documentElement.lang, { weekday: 'short', day: 'numeric', month: 'short' });
    // Written to this phone first, then sent (STACK "Offline").
    await enqueue('session', '/api/v1/sessions', payload, t('Session on {day}', { day }));
    if (!settled) showSummary(null, t('Saved on this phone — will send when online.'));
  });
}

const page = document.querySelector('[data-player]:not([data-offline])');
if (page && 'indexedDB' in window && window.FormData) start(page);
