// "Needs your attention": a report the server refused (409/422…) is shown with the server's
// message; the patient corrects and resends it, or discards it on purpose (STACK "Offline").
import { t } from './i18n.js';

const FIXABLE = {
  pain_before: t('Pain before (0–10)'),
  pain_after: t('Pain after (0–10)'),
  effort: t('Effort (0–10)'),
  morning_pain: t('Pain this morning (0–10)'),
};
const TIMES = ['completed_at', 'started_at', 'recorded_at'];

export function attentionItem(entry, { h, uuid, enqueue, remove }) {
  const errors = entry.problem?.errors || [];
  const inputs = {};
  const fixes = errors
    .filter((e) => FIXABLE[e.field])
    .map((e) => {
      const id = `fix-${entry.id}-${e.field}`;
      inputs[e.field] = h('input', { id, type: 'number', min: '0', max: '10', inputmode: 'numeric' });
      return h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, FIXABLE[e.field]), inputs[e.field]);
    });
  const resend = async () => {
    const payload = { ...entry.payload };
    for (const [field, input] of Object.entries(inputs)) {
      if (input.value !== '') payload[field] = Number(input.value);
    }
    for (const e of errors) {
      if (TIMES.includes(e.field)) payload[e.field] = new Date().toISOString();
    }
    if (entry.status === 409) payload.id = uuid(); // that id is taken: send it as a new report
    await remove(entry.id);
    await enqueue(entry.kind, entry.url, payload, entry.label);
  };
  const discard = () => remove(entry.id);
  return h(
    'li',
    {},
    h('strong', {}, entry.label || t('Saved entry')),
    h('p', {}, entry.problem?.detail || t('The server could not accept this.')),
    errors.length ? h('ul', {}, ...errors.map((e) => h('li', {}, `${e.field}: ${e.message}`))) : null,
    ...fixes,
    h('div', { class: 'nav-buttons' },
      h('button', { type: 'button', class: 'button', onclick: resend }, t('Correct and send again')),
      h('button', { type: 'button', class: 'button', onclick: discard }, t('Discard')),
    ),
  );
}

