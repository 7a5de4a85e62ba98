// Spoken cues for the player (issue 11), loaded only when the voice is on: the browser's own
// speech synthesis, so nothing leaves the phone. Words in the page's language (<html lang>).
// Once loaded it also puts a mute switch under each timer, for one hand in the middle of a set.
const WORDS = {
  en: {
    next: (name) => `Next exercise: ${name}`,
    hold: (s) => `Hold, ${s} second${s === 1 ? '' : 's'}`,
    relax: 'Relax',
    rest: (s) => `Rest, ${s} second${s === 1 ? '' : 's'}`,
    switch: 'Switch sides',
    done: 'Exercise done',
  },
  es: {
    next: (name) => `Siguiente ejercicio: ${name}`,
    hold: (s) => `Mantén, ${s} segundo${s === 1 ? '' : 's'}`,
    relax: 'Relaja',
    rest: (s) => `Descansa, ${s} segundo${s === 1 ? '' : 's'}`,
    switch: 'Cambia de lado',
    done: 'Ejercicio terminado',
  },
};

/** Say one cue; a new step cuts off what is still being said, a count queues behind it. */
export function say(cue, value) {
  const lang = document.documentElement.lang || 'en';
  const word = (WORDS[lang.slice(0, 2)] || WORDS.en)[cue];
  const text = typeof word === 'function' ? word(value) : word ?? String(value);
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
  Object.assign(button, { type: 'button', className: 'button voice-mute', textContent: 'Mute voice' });
  button.setAttribute('aria-pressed', 'false');
  button.addEventListener('click', mute);
  timer.append(button);
}
