// Spoken cues for the player (issue 11), loaded only when the voice is on: the browser's own
// speech synthesis, so nothing leaves the phone. Words in the page's language (i18n.js, <html lang>).
// Once loaded it also puts a mute switch under each timer, for one hand in the middle of a set.
import { t } from './i18n.js';

const WORDS = {
  next: (name) => t('Next exercise: {name}', { name }),
  hold: (s) => (s === 1 ? t('Hold, {s} second', { s }) : t('Hold, {s} seconds', { s })),
  relax: () => t('Relax'),
  rest: (s) => (s === 1 ? t('Rest, {s} second', { s }) : t('Rest, {s} seconds', { s })),
  switch: () => t('Switch sides'),
  done: () => t('Exercise done'),
};

/** Say one cue; a new step cuts off what is still being said, a count queues behind it. */
export function say(cue, value) {
  const lang = document.documentElement.lang || 'en';
  const text = WORDS[cue]?.(value) ?? String(value);
  if (cue !== 'count') speechSynthesis.cancel();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = lang;
  speechSynthesis.speak(utterance);
}

/** Mute (or unmute) from any exercise screen; the choice is the same one as the first screen's. */
function mute(event) {
  const muted = event.currentTarget.getAttribute('aria-pressed') !== 'true';
  localStorage.setItem('hs-voice', muted ? '0' : '1');
  if (muted) speechSynthesis.cancel();
  const first = document.getElementById('voice');
  if (first) first.checked = !muted;
  pressed(muted);
}
const pressed = (muted) => document.querySelectorAll('.voice-mute').forEach((b) => b.setAttribute('aria-pressed', String(muted)));
document.getElementById('voice')?.addEventListener('change', (event) => pressed(!event.target.checked));

for (const timer of document.querySelectorAll('.timer')) {
  const button = document.createElement('button');
  Object.assign(button, { type: 'button', className: 'button voice-mute', textContent: t('Mute voice') });
  button.setAttribute('aria-pressed', 'false');
  button.addEventListener('click', mute);
  timer.append(button);
}
