// Search box, rows-per-page choice and page numbers for the long lists (操作日志, 审计日志),
// as the manual's lists have them (§7: 每页 10、25、50、100 行, 搜索). The searching and
// the paging are the server's (`q`, `page`, `per_page`); these only ask for them.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { formatCount } from '../format.js';
import { Icon } from './icons.js';

export const PAGE_SIZES = [10, 25, 50, 100];
export const SEARCH_DEBOUNCE_MS = 300;

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced(value, ms = SEARCH_DEBOUNCE_MS) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return settled;
}

export function pageCount(total, perPage) {
  return Math.max(1, Math.ceil((Number(total) || 0) / perPage));
}

/** Page numbers to offer: the first, the last and two either side of the current; null = a gap. */
export function pageNumbers(page, pages) {
  const out = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= 2) out.push(p);
    else if (out[out.length - 1] !== null) out.push(null);
  }
  return out;
}

export function SearchBox({ id, value, onInput, label }) {
  return html`<div class="search-box">
    <label class="sr-only" for=${id}>${label}</label>
    <${Icon} name="search" size=${15} class="input-icon" />
    <input
      id=${id}
      data-testid=${id}
      class="input"
      type="search"
      value=${value}
      placeholder=${label}
      maxLength=${100}
      autocomplete="off"
      spellcheck=${false}
      onInput=${(e) => onInput(e.currentTarget.value)}
    />
  </div>`;
}

/** 每页显示 [25] 行 */
export function PageSizeSelect({ id, value, onChange }) {
  return html`<label class="page-size" for=${id}>
    <span>${t('paging.show')}</span>
    <select
      id=${id}
      data-testid=${id}
      class="input select select-sm"
      value=${String(value)}
      onChange=${(e) => onChange(Number(e.currentTarget.value))}
    >
      ${PAGE_SIZES.map((n) => html`<option key=${n} value=${String(n)}>${n}</option>`)}
    </select>
    <span>${t('paging.rows')}</span>
  </label>`;
}

/** 共 N 条 · 上一页 1 … 4 5 [6] 7 8 … 20 下一页 */
export function Pager({ testid, page, perPage, total, onPage, disabled = false }) {
  const pages = pageCount(total, perPage);
  const first = total > 0 ? (page - 1) * perPage + 1 : 0;
  const last = Math.min(total, page * perPage);
  return html`<div class="pager-bar" data-testid=${testid}>
    <span class="pager-total" data-testid=${`${testid}-total`} data-total=${String(total)}>
      ${total > 0
        ? t('paging.range', { first: formatCount(first), last: formatCount(last), total: formatCount(total) })
        : t('paging.total', { total: formatCount(total) })}
    </span>
    <nav class="pager" aria-label=${t('paging.label')}>
      <button
        type="button"
        class="pager-btn"
        disabled=${disabled || page <= 1}
        onClick=${() => onPage(page - 1)}
        data-testid="pager-prev"
      >
        <${Icon} name="chevronLeft" size=${14} /><span>${t('paging.prev')}</span>
      </button>
      ${pageNumbers(page, pages).map((p, i) =>
        p === null
          ? html`<span key=${`gap${i}`} class="pager-gap" aria-hidden="true">…</span>`
          : html`<button
              key=${p}
              type="button"
              class=${p === page ? 'pager-btn pager-num current' : 'pager-btn pager-num'}
              aria-current=${p === page ? 'page' : undefined}
              aria-label=${t('paging.page', { n: p })}
              disabled=${disabled}
              onClick=${() => onPage(p)}
              data-testid=${`pager-page-${p}`}
            >${p}</button>`,
      )}
      <button
        type="button"
        class="pager-btn"
        disabled=${disabled || page >= pages}
        onClick=${() => onPage(page + 1)}
        data-testid="pager-next"
      >
        <span>${t('paging.next')}</span><${Icon} name="chevronRight" size=${14} />
      </button>
    </nav>
  </div>`;
}
