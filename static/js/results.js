// What the server's answers mean for the patient: a session's traffic light, a red-flag
// instruction and whom to call. Loaded by the pages that show them, and by the outbox box only
// when something sent from this phone has an answer to show.
import { h } from './outbox.js';

const cap = (s) => s[0].toUpperCase() + s.slice(1);

export const TITLES = {
  emergency: 'Go to an emergency department now',
  urgent: 'Contact your therapist or doctor today',
  prompt: 'Your therapist will review this',
  none: 'Thank you',
};

/** A large tap-to-call button for {number, who, label} (DESIGN §4 `call`), and whom it reaches. */
export function callButton(call) {
  if (!call?.number) return [];
  const a = h('a', { class: 'button button-call', href: `tel:${call.number.replace(/[^0-9+]/g, '')}`, 'data-call': '' },
    h('span', {}, call.label));
  if (call.label !== `Call ${call.number}`) a.append(h('small', {}, call.number));
  return call.who && call.who !== 'the emergency services' ? [a, h('p', { class: 'call-who' }, call.who)] : [a];
}

/** Whom to call at this level from the kept contact, as the server's `call` would say it. */
export function callFor(level, c) {
  if (level === 'emergency' && c?.emergency_number) {
    return { number: c.emergency_number, who: 'the emergency services', label: `Call ${c.emergency_number}` };
  }
  if (level === 'urgent' && c?.clinic_phone) {
    return { number: c.clinic_phone, who: [c.therapist, c.clinic].filter(Boolean).join(', ') || 'your clinic', label: 'Call your clinic' };
  }
  return null;
}

/** A session's traffic light (CLINICAL §4), with the safety questions a RED result calls for. */
export function lightCard(body, what = 'Pain') {
  const l = body.light;
  const card = h('div', { class: `card light light-${l}`, role: 'status' },
    h('h2', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }), ` ${cap(l)}: ${body.light_message}`),
    h('p', {}, `${what} ${body.pain_before} before${body.peak_pain === null ? '' : `, ${body.peak_pain} at most during or after`}.`),
    body.light_provisional ? h('p', { class: 'hint' }, 'Tomorrow morning’s check-in will confirm this.') : null);
  if (l === 'red') {
    card.append(h('p', { class: 'notice' }, 'Please answer a few safety questions now. ', h('a', { href: '/checkin' }, 'Open the check-in')));
  }
  return [card];
}

/** What the answers to reports sent from this phone mean: each session's traffic light, and
 *  each red-flag instruction or "Sent" line once however many reports carried it. */
export function sentItems(list) {
  const seen = new Set();
  const out = [];
  for (const { entry, body } of list) {
    const label = entry.label || 'Report';
    const i = body?.instruction;
    if (entry.kind === 'session' && body?.light) {
      out.push(...lightCard(body, `${label}: pain`));
      continue;
    }
    const act = i && (i.level === 'emergency' || i.level === 'urgent');
    const key = act ? i.level : label;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(act
      ? h('div', { class: 'card card-alert', role: 'alert' }, h('h2', {}, TITLES[i.level]), h('p', {}, i.text), ...callButton(i.call))
      : h('p', { class: 'sent', role: 'status' }, `Sent: ${label}.`));
  }
  return out;
}
