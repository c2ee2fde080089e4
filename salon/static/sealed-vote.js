// The vote page of a sealed poll (SPEC §5.1): the voter's choices are shown back for confirmation here, in the
// browser, then sealed with sealed.js and only the sealed ballot is posted (the hidden field `sealed`). The
// expensive part of sealing (prepare) runs while the voter reads; sealing after the choice is quick. Without
// this script the page's form goes to the server's confirmation step and the server seals the ballot.
import { canonicalJson, prepare, sealPrepared } from './sealed.js';

const form = document.getElementById('ballot-form');
const panel = document.getElementById('sealed-confirm');
if (form && form.dataset.sealSpec && panel) {
  const spec = JSON.parse(form.dataset.sealSpec);
  const list = document.getElementById('sealed-choices');
  const sealedForm = document.getElementById('sealed-form');
  const error = document.getElementById('sealed-error');
  let prepared = null;
  let rows = null;
  const ready = () => { if (prepared === null) prepared = prepare(spec.poll, spec.public_key, spec.questions, undefined,
    spec.protocol || 1); };
  window.setTimeout(ready, 0);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.hidden = true;
    const picked = [];
    rows = [];
    list.replaceChildren();
    for (const question of spec.questions) {
      const row = question.option_ids.map(() => 0);
      const labels = [];
      question.option_ids.forEach((id, position) => {
        if (id === null) return;
        const input = form.querySelector(`input[data-question="${question.id}"][value="${id}"]`);
        if (input && input.checked) { row[position] = 1; labels.push(input.dataset.label); }
      });
      if (labels.length > question.max) {
        error.textContent = panel.dataset.tooMany.replace('{n}', String(question.max));
        error.hidden = false;
        rows = null;
        return;
      }
      if (question.blank !== null && labels.length === 0) row[question.blank] = 1;
      rows.push(row);
      picked.push([question.id, labels]);
    }
    for (const [id, labels] of picked) {
      const heading = document.createElement('p');
      heading.textContent = form.querySelector(`[data-question-text="${id}"]`).textContent;
      list.append(heading);
      if (labels.length === 0) {
        const blank = document.createElement('p');
        const strong = document.createElement('strong');
        strong.textContent = panel.dataset.blank;
        blank.append(strong);
        list.append(blank);
      } else {
        const items = document.createElement('ul');
        for (const label of labels) {
          const item = document.createElement('li');
          item.textContent = label;
          items.append(item);
        }
        list.append(items);
      }
    }
    form.hidden = true;
    panel.hidden = false;
    panel.querySelector('button[type=submit]').focus();
  });

  document.getElementById('sealed-change').addEventListener('click', () => {
    panel.hidden = true;
    form.hidden = false;
  });

  sealedForm.addEventListener('submit', (event) => {
    if (rows === null) { event.preventDefault(); return; }
    ready();
    const ballot = sealPrepared(prepared, rows);
    prepared = null; // a prepared ballot seals once: a second try prepares anew
    sealedForm.querySelector('input[name=sealed]').value = canonicalJson(ballot);
  });
}
