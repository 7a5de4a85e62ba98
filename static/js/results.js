// What the server's answers mean for the patient: a session's traffic light, a red-flag
// instruction and whom to call. Loaded by the pages that show them, and by the outbox box only
// when something sent from this phone has an answer to show.
import { h } from './outbox.js';
import { t } from './i18n.js';

const LIGHTS = { green: t('Green'), amber: t('Amber'), red: t('Red'), unknown: t('Unknown') };

export const TITLES = {
  emergency: t('Go to an emergency department now'),
  urgent: t('Contact your therapist or doctor today'),
  prompt: t('Your therapist will review this'),
  none: t('Thank you'),
};

const EMS = t('the emergency services');

/** A large tap-to-call button for {number, who, label} (DESIGN §4 `call`), and whom it reaches. */
export function callButton(call) {
  if (!call?.number) return [];
  const a = h('a', { class: 'button button-call', href: `tel:${call.number.replace(/[^0-9+]/g, '')}`, 'data-call': '' },
    h('span', {}, call.label));
  if (!call.label.includes(call.number)) a.append(h('small', {}, call.number)); // "Call your clinic"
  return call.who && call.who !== EMS ? [a, h('p', { class: 'call-who' }, call.who)] : [a];
}

/** Whom to call at this level from the kept contact, as the server's `call` would say it. */
export function callFor(level, c) {
  if (level === 'emergency' && c?.emergency_number) {
    return { number: c.emergency_number, who: EMS, label: t('Call {number}', { number: c.emergency_number }) };
  }
  if (level === 'urgent' && c?.clinic_phone) {
    return { number: c.clinic_phone, who: [c.therapist, c.clinic].filter(Boolean).join(', ') || t('your clinic'), label: t('Call your clinic') };
  }
  return null;
}

/** A session's traffic light (CLINICAL §4), with the safety questions a RED result calls for. */
export function lightCard(body, label) {
  const l = body.light;
  const v = { label, before: body.pain_before, peak: body.peak_pain };
  const peak = body.peak_pain !== null;
  const card = h('div', { class: `card light light-${l}`, role: 'status' },
    h('h2', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }), ` ${LIGHTS[l] || l}: ${body.light_message}`),
    h('p', {}, label
      ? peak ? t('{label}: pain {before} before, {peak} at most during or after.', v) : t('{label}: pain {before} before.', v)
      : peak ? t('Pain {before} before, {peak} at most during or after.', v) : t('Pain {before} before.', v)),
    body.light_provisional ? h('p', { class: 'hint' }, t('Tomorrow morning’s check-in will confirm this.')) : null);
  if (l === 'red') {
    card.append(h('p', { class: 'notice' }, t('Please answer a few safety questions now.'), ' ', h('a', { href: '/checkin' }, t('Open the check-in'))));
  }
  return [card];
}

/** What the answers to reports sent from this phone mean: each session's traffic light, and
 *  each red-flag instruction or "Sent" line once however many reports carried it. */
export function sentItems(list) {
  const seen = new Set();
  const out = [];
  for (const { entry, body } of list) {
    const label = entry.label || t('Report');
    const i = body?.instruction;
    if (entry.kind === 'session' && body?.light) {
      out.push(...lightCard(body, label));
      continue;
    }
    const act = i && (i.level === 'emergency' || i.level === 'urgent');
    const key = act ? i.level : label;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(act
      ? h('div', { class: 'card card-alert', role: 'alert' }, h('h2', {}, TITLES[i.level]), h('p', {}, i.text), ...callButton(i.call))
      : h('p', { class: 'sent', role: 'status' }, t('Sent: {label}.', { label })));
  }
  return out;
}
