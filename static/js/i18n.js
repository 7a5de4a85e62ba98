// The scripts' words in the page's language (issue 16). The English text is the key, so an
// English page loads nothing more; another language's page names its dictionary in
// <html data-words> — a module made from the catalogue (`make translations`) and kept offline by
// the service worker. A dictionary that cannot load leaves the English words, never a broken page.
const src = document.documentElement.dataset.words;
const words = src ? await import(src).then((m) => m.default, () => ({})) : {};

/** `t('Set {n} of {sets}', { n: 1, sets: 3 })`: the translation, with its {names} filled in. */
export const t = (text, values) =>
  (words[text] || text).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? values[k] : m));
