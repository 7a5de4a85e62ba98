// Small helpers of the clinician pages: copy a link with one click (no inline script: CSP).
for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Press Ctrl+C to copy';
    }
  });
}

// Stage change preview: every stage's plan is on the page (readable without script); show the
// one the select names.
const stageSelect = document.querySelector('select[name="stage"]');
const previews = document.querySelectorAll('[data-stage-preview]');
if (stageSelect && previews.length) {
  const showChosen = () => {
    for (const preview of previews) preview.hidden = preview.dataset.stagePreview !== stageSelect.value;
  };
  stageSelect.addEventListener('change', showChosen);
  showChosen();
}

// Feedback where the eye is: a message after a change moves beside the part of the page the
// redirect named (#item-3) and takes focus; a refused form puts focus on its first error. This
// runs after the browser's own scroll to the #fragment, which would otherwise take focus back.
function placeFeedback() {
  const flashes = document.querySelector('.flashes');
  const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  const invalid = document.querySelector(
    '.field-invalid input:not([type=hidden]), .field-invalid select, .field-invalid textarea',
  );
  if (invalid) {
    invalid.closest('details')?.setAttribute('open', '');
    invalid.scrollIntoView({ block: 'center' });
    invalid.focus({ preventScroll: true });
  } else if (flashes && target) {
    target.prepend(flashes);
    flashes.tabIndex = -1;
    flashes.scrollIntoView({ block: 'center' });
    flashes.focus({ preventScroll: true });
  }
}
if (document.readyState === 'complete') placeFeedback();
else window.addEventListener('load', () => requestAnimationFrame(placeFeedback), { once: true });

// Print buttons on the handout and the referral letter.
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
}

// The exercise form's figure: show the pose selects only for "two poses", and preview the
// chosen figure as it changes.
const figureChoice = document.querySelector('[data-figure-choice]');
if (figureChoice) {
  const source = figureChoice.querySelector('select[name="figure"]');
  const start = figureChoice.querySelector('select[name="figure_start"]');
  const end = figureChoice.querySelector('select[name="figure_end"]');
  const poses = figureChoice.querySelector('[data-figure-poses]');
  const preview = figureChoice.querySelector('[data-figure-preview]');
  const image = preview.querySelector('img');
  const update = () => {
    const value = source.value;
    poses.hidden = value !== 'poses';
    let url = '';
    if (value.startsWith('builtin:')) {
      url = figureChoice.dataset.builtinUrl.replace('SLUG', encodeURIComponent(value.slice(8)));
    } else if (value === 'poses') {
      url = figureChoice.dataset.posesUrl
        .replace('START', encodeURIComponent(start.value))
        .replace('END', encodeURIComponent(end.value));
    }
    preview.hidden = !url;
    if (url && image.getAttribute('src') !== url) image.src = url;
  };
  for (const select of [source, start, end]) select.addEventListener('change', update);
  update();
}
