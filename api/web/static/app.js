// mdtplan's pages: GOV.UK Frontend components, local times, no focus theft, sortable tables.
import { initAll } from './govuk-frontend/govuk-frontend.min.js';

document.body.classList.add('js-enabled', 'govuk-frontend-supported');
initAll();

// Times are sent as UTC; show them in the reader's own time zone (the UTC text stays as a title).
function localTimes(root) {
  root.querySelectorAll('time[datetime]').forEach((t) => {
    const d = new Date(t.dateTime);
    if (!t.dataset.local && !Number.isNaN(d.getTime())) {
      t.dataset.local = '1';
      t.title = t.textContent;
      t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    }
  });
}

// Tables with data-sortable: a heading's button sorts by that column (numbers by data-value).
function sortable(root) {
  root.querySelectorAll('table[data-sortable]').forEach((table) => {
    table.querySelectorAll('thead th').forEach((th, index) => {
      const button = th.querySelector('button.mdt-sort');
      if (!button || button.dataset.bound) return;
      button.dataset.bound = '1';
      button.addEventListener('click', () => {
        const ascending = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach((o) => o.setAttribute('aria-sort', 'none'));
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => {
          const cell = row.cells[index];
          if (!cell) return '';
          const v = cell.dataset.value;
          return v !== undefined && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : cell.textContent.trim().toLowerCase();
        };
        rows.sort((a, b) => {
          const x = key(a); const y = key(b);
          const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
          return ascending ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  });
}

localTimes(document);
sortable(document);
document.body.addEventListener('htmx:afterSettle', () => { localTimes(document); sortable(document); });

// A region marked data-keep-focus is not replaced while the reader is in it: polling never
// moves their focus or what they are reading (WCAG 2.2.2 / 3.2.2).
document.body.addEventListener('htmx:beforeSwap', (e) => {
  const target = e.detail.target;
  const active = document.activeElement;
  if (target && target.hasAttribute('data-keep-focus') && active && active !== document.body && target.contains(active)) {
    e.detail.shouldSwap = false;
  }
});
