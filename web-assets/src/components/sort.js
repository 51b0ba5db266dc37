// A sortable column header (manual §7: every column sorts both ways, ▲ ascending — from
// small to large —, ▼ descending). Clicking the sorted column turns its direction round;
// clicking another column sorts by it ascending. The state is `{ column, dir }`.

import { html } from 'htm/preact';
import { t } from '../i18n.js';

/** The next sort state after a click on `column`. */
export function nextSort(current, column) {
  if (current.column === column) return { column, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { column, dir: 'asc' };
}

export function SortHeader({ column, label, sort, onSort, testid }) {
  const active = sort.column === column;
  const ariaSort = active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  const hint = active && sort.dir === 'asc' ? t('sort.desc', { column: label }) : t('sort.asc', { column: label });
  return html`<th scope="col" aria-sort=${ariaSort} class=${active ? 'sortable sorted' : 'sortable'}>
    <button
      type="button"
      class="sort-btn"
      onClick=${() => onSort(nextSort(sort, column))}
      title=${hint}
      data-testid=${testid}
      data-sort=${active ? sort.dir : 'none'}
    >
      <span>${label}</span>
      <span class="sort-arrows" aria-hidden="true">
        <span class=${active && sort.dir === 'asc' ? 'sort-up on' : 'sort-up'}>▲</span>
        <span class=${active && sort.dir === 'desc' ? 'sort-down on' : 'sort-down'}>▼</span>
      </span>
    </button>
  </th>`;
}
