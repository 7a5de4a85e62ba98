// Guided player: timers, set counter, beep; without this script the page is one plain form.
import { enqueue, h, onOutbox, uuid } from './outbox.js';

const form = document.querySelector('[data-player]');
const quiet = matchMedia('(prefers-reduced-motion: reduce)');
let audio = null;
let wake = null;

const soundOn = () => localStorage.getItem('hs-sound') === '1';

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

/** The timer and set counter of one exercise screen. */
function exerciseTimer(section, announce) {
  const d = section.dataset;
  const sets = Number(d.sets) || 1;
  const perSet = ints(d.rps);
  const reps = num(d.reps);
  const hold = num(d.hold);
  const duration = num(d.duration);
  const rest = num(d.rest) || 0;
  const sides = Number(d.sides) || 1;
  const relax = Math.min(3, Math.max(1, rest));
  const kind = hold ? 'hold' : duration ? 'time' : 'count';
  const holdsIn = (s) => (perSet.length ? perSet[s] : reps || 1) * sides;
  const result = { sets_done: 0, reps_done: 0, hold_seconds: null };
  let set = 0;
  let rep = 0;
  let phase = 'ready';
  let tick = null;
  let ends = 0;

  const count = h('p', { class: 'count', 'aria-hidden': 'true' }, '');
  const phaseText = h('p', { class: 'phase' }, '');
  const progress = h('p', { class: 'progress' }, '');
  const main = h('button', { type: 'button', class: 'button button-primary', onclick: press }, '');
  const box = h('div', { class: 'timer' }, phaseText, count, progress, main);
  section.querySelector('.steps').before(box);

  function setStatus(value) {
    const radio = section.querySelector(`input[name$="-status"][value="${value}"]`);
    if (radio) radio.checked = true;
  }

  function draw(seconds) {
    box.className = `timer ${phase === 'hold' || phase === 'time' ? 'running' : phase}`;
    count.textContent = seconds === undefined ? '' : String(seconds);
    const setLabel = `Set ${Math.min(set + 1, sets)} of ${sets}`;
    progress.textContent =
      kind === 'hold' && phase !== 'done' ? `${setLabel} · hold ${rep + 1} of ${holdsIn(set)}` : setLabel;
    phaseText.textContent = {
      ready: kind === 'count' ? 'Do the set at your own pace' : 'Ready when you are',
      hold: 'Hold',
      relax: 'Relax',
      time: 'Keep going',
      rest: 'Rest',
      done: 'Exercise done — well done',
    }[phase];
    main.textContent = {
      ready: kind === 'count' ? 'Set done' : kind === 'hold' ? 'Start hold' : 'Start',
      hold: 'Stop',
      relax: 'Stop',
      time: 'Stop',
      rest: 'Skip rest',
      done: 'Start again',
    }[phase];
  }

  function countdown(seconds, next) {
    clearInterval(tick);
    ends = Date.now() + seconds * 1000;
    draw(seconds);
    tick = setInterval(() => {
      const left = Math.ceil((ends - Date.now()) / 1000);
      if (left > 0) return draw(left);
      clearInterval(tick);
      next();
    }, 200);
  }

  function finishSet() {
    result.sets_done = set + 1;
    set += 1;
    rep = 0;
    if (set >= sets) {
      phase = 'done';
      setStatus('done');
      signal();
      announce('Exercise done. Choose Next when you are ready.');
      return draw();
    }
    if (rest > 0) {
      phase = 'rest';
      signal();
      announce(`Rest ${rest} seconds. Then set ${set + 1} of ${sets}.`);
      return countdown(rest, () => {
        phase = 'ready';
        signal();
        announce(`Set ${set + 1} of ${sets}. Ready when you are.`);
        draw();
      });
    }
    phase = 'ready';
    draw();
  }

  function startHold() {
    phase = 'hold';
    announce(`Hold ${hold} seconds`);
    countdown(hold, () => {
      rep += 1;
      result.reps_done += 1;
      result.hold_seconds = hold;
      if (rep >= holdsIn(set)) return finishSet();
      phase = 'relax';
      signal();
      countdown(relax, startHold);
    });
  }

  function press() {
    wake ||= navigator.wakeLock?.request('screen').catch(() => null);
    if (phase === 'ready' && kind === 'hold') return startHold();
    if (phase === 'ready' && kind === 'time') {
      phase = 'time';
      announce(`Keep going for ${duration} seconds`);
      return countdown(duration * sides, () => {
        result.reps_done += 1;
        finishSet();
      });
    }
    if (phase === 'ready') {
      result.reps_done += perSet.length ? perSet[set] : reps || 0;
      return finishSet();
    }
    clearInterval(tick);
    if (phase === 'rest') {
      phase = 'ready';
    } else if (phase === 'done') {
      set = 0;
      rep = 0;
      phase = 'ready';
    } else {
      phase = 'ready'; // stopped during a hold: that hold starts again
    }
    draw();
  }

  draw();
  return {
    result,
    stop: () => clearInterval(tick),
    progressed: () => result.sets_done > 0 || result.reps_done > 0,
    complete: () => result.sets_done >= sets,
  };
}

function start() {
  const steps = [...form.querySelectorAll('[data-step]')];
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const announce = (text) => {
    live.textContent = text;
  };
  const timers = new Map();
  const sessionId = uuid();
  const started = new Date();
  let current = 0;

  const soundBox = h('input', { type: 'checkbox', id: 'sound' });
  soundBox.checked = soundOn();
  soundBox.addEventListener('change', () => localStorage.setItem('hs-sound', soundBox.checked ? '1' : '0'));
  steps[0].append(
    h('label', { class: 'check sound', for: 'sound' }, soundBox, h('span', {}, 'Beep and vibrate when a timer ends')),
  );
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

  function canLeave(step) {
    step.querySelector('.js-error')?.remove();
    if (step === steps[0]) {
      return form.querySelector('input[name="pain_before"]:checked')
        ? true
        : error(step, 'Choose a number from 0 to 10 first.');
    }
    const timer = timers.get(step);
    if (!timer || step.querySelector('input[name$="-status"]:checked')) return true;
    if (timer.complete() || timer.progressed()) {
      const value = timer.complete() ? 'done' : 'partial';
      step.querySelector(`input[name$="-status"][value="${value}"]`).checked = true;
      return true;
    }
    return error(step, 'Choose done, partly or skipped.');
  }

  function show(index) {
    steps[current].classList.remove('current');
    current = index;
    const step = steps[current];
    step.classList.add('current');
    const heading = step.querySelector('h2');
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
    scrollTo({ top: 0, behavior: quiet.matches ? 'auto' : 'smooth' });
  }

  steps.forEach((step, i) => {
    if (step.classList.contains('exercise')) timers.set(step, exerciseTimer(step, announce));
    const nav = h('div', { class: 'nav-buttons' });
    if (i > 0) nav.append(h('button', { type: 'button', class: 'button', onclick: () => show(i - 1) }, 'Back'));
    if (i < steps.length - 1) {
      const label = i === 0 ? 'Start' : i === steps.length - 2 ? 'Next: finish' : 'Next exercise';
      nav.append(
        h('button', {
          type: 'button',
          class: 'button button-primary',
          onclick: () => {
            if (!canLeave(step)) return;
            timers.get(step)?.stop();
            show(i + 1);
          },
        }, label),
      );
    }
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
      const t = timers.get(step).result;
      const reason = step.querySelector('input[name$="-skip_reason"]').value.trim();
      exercises.push({
        program_item_id: Number(step.dataset.item),
        status,
        sets_done: status === 'skipped' ? 0 : t.sets_done || null,
        reps_done: status === 'skipped' ? 0 : t.reps_done || null,
        hold_seconds: t.hold_seconds,
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

  function showSummary(body, state) {
    const back = h('a', { class: 'button button-wide', href: '/today' }, 'Back to today');
    if (body) {
      const light = body.light;
      const card = h('div', { class: `card light light-${light}` },
        h('h2', { tabindex: '-1' }, h('span', { class: 'dot', 'aria-hidden': 'true' }),
          ` ${light[0].toUpperCase()}${light.slice(1)}: ${body.light_message}`),
        h('p', {}, `Pain ${body.pain_before} before${body.peak_pain === null ? '' : `, ${body.peak_pain} at most during or after`}.`),
        h('p', { class: 'hint' }, 'This result is settled by tomorrow morning’s check-in.'));
      summary.replaceChildren(h('h2', {}, 'Session saved'), card);
      if (light === 'red') {
        summary.append(h('p', { class: 'notice' }, 'Please answer a few safety questions now. ',
          h('a', { href: '/checkin' }, 'Open the check-in')));
      }
    } else {
      summary.replaceChildren(h('h2', { tabindex: '-1' }, 'Session finished'),
        h('p', { class: 'notice' }, state));
    }
    summary.append(back);
    summary.querySelector('h2').focus();
  }

  let settled = false;
  onOutbox(({ type, entry, body }) => {
    if (entry.id !== sessionId) return;
    settled = type !== 'kept';
    if (type === 'sent') showSummary(body);
    else if (type === 'refused') showSummary(null, 'The server could not accept this session: see “Needs your attention” above.');
    else showSummary(null, 'Saved on this phone — will send when online.');
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.querySelector('input[name="pain_before"]:checked')) {
      show(0);
      return error(steps[0], 'Choose a number from 0 to 10 first.');
    }
    form.querySelector('[type="submit"]').disabled = true;
    timers.forEach((t) => t.stop());
    const payload = report();
    form.hidden = true;
    showSummary(null, 'Saving…');
    const day = new Date().toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
    // Written to this phone first, then sent (STACK "Offline").
    await enqueue('session', '/api/v1/sessions', payload, `Session on ${day}`);
    if (!settled) showSummary(null, 'Saved on this phone — will send when online.');
  });
}

if (form && 'indexedDB' in window && window.FormData) start();
