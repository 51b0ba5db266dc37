// Bar charts of the 监控显示 page, drawn as SVG by Preact (no chart library: a few hundred
// bytes of code, and nothing that needs inline styles under the CSP). Sizes are SVG
// attributes, colours come from CSS classes (styles/dashboard.css).
//
// Each chart measures the width of its box (ResizeObserver) and draws at that pixel width,
// so text stays readable at every size. Each carries a screen-reader table of its numbers.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { formatCount } from '../format.js';

/** [ref, width] of an element, following its resizes. */
function useWidth(initial) {
  const ref = useRef(null);
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const measure = () => {
      const w = Math.floor(el.getBoundingClientRect().width);
      if (w > 0) setWidth(w);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/** Integer axis: a round step and the top value, for counts up to `max`. */
function niceScale(max, ticks) {
  const rough = Math.max(max, 1) / ticks;
  const pow = 10 ** Math.floor(Math.log10(rough));
  let step = pow;
  for (const f of [1, 2, 5, 10]) {
    step = f * pow;
    if (step >= rough) break;
  }
  step = Math.max(1, Math.round(step));
  return { step, top: Math.max(step, Math.ceil(Math.max(max, 1) / step) * step) };
}

function YAxis({ scale, x0, x1, y }) {
  const lines = [];
  for (let v = 0; v <= scale.top; v += scale.step) {
    const yy = Math.round(y(v)) + 0.5;
    lines.push(html`<g key=${v}>
      <line class=${v === 0 ? 'chart-axis' : 'chart-grid'} x1=${x0} x2=${x1} y1=${yy} y2=${yy} />
      <text class="chart-tick" x=${x0 - 6} y=${yy} dy="0.32em" text-anchor="end">${v}</text>
    </g>`);
  }
  return lines;
}

/** 24 rows, hour 0–23, whatever the server sent (missing hours count 0). */
function byHour(trend) {
  const rows = Array.from({ length: 24 }, (_, hour) => ({ hour, answered: 0, failed: 0 }));
  for (const r of trend || []) {
    if (r && Number.isInteger(r.hour) && r.hour >= 0 && r.hour < 24) {
      rows[r.hour] = { hour: r.hour, answered: Number(r.answered) || 0, failed: Number(r.failed) || 0 };
    }
  }
  return rows;
}

const p2 = (n) => String(n).padStart(2, '0');

/** 今日通话趋势: answered and failed inbound calls per hour, grouped bars. */
export function TrendChart({ trend }) {
  const [ref, width] = useWidth(720);
  const rows = byHour(trend);
  const H = 230;
  const m = { top: 12, right: 6, bottom: 26, left: 38 };
  const plotW = Math.max(width - m.left - m.right, 48);
  const plotH = H - m.top - m.bottom;
  const scale = niceScale(Math.max(...rows.map((r) => Math.max(r.answered, r.failed))), 4);
  const y = (v) => m.top + plotH - (v / scale.top) * plotH;
  const band = plotW / 24;
  const groupW = Math.max(band * 0.7, 3);
  const barW = Math.max((groupW - 1) / 2, 1);
  const labelEvery = band >= 22 ? 1 : band >= 12 ? 2 : 3;
  const barH = (v) => (v > 0 ? Math.max(y(0) - y(v), 1.5) : 0);

  return html`<div class="chart" ref=${ref}>
    <svg
      class="chart-svg"
      width=${width}
      height=${H}
      viewBox=${`0 0 ${width} ${H}`}
      role="img"
      aria-label=${t('dash.trend.aria')}
      data-testid="trend-chart"
    >
      <${YAxis} scale=${scale} x0=${m.left} x1=${m.left + plotW} y=${y} />
      ${rows.map((r) => {
        const x = m.left + r.hour * band;
        const gx = x + (band - groupW) / 2;
        return html`<g
          key=${r.hour}
          class="trend-hour"
          data-testid=${`trend-hour-${r.hour}`}
          data-answered=${r.answered}
          data-failed=${r.failed}
        >
          <title>${t('dash.trend.tip', {
            from: `${p2(r.hour)}:00`,
            to: `${p2(r.hour)}:59`,
            answered: r.answered,
            failed: r.failed,
          })}</title>
          <rect class="trend-hit" x=${x} y=${m.top} width=${band} height=${plotH} />
          <rect class="bar-answered" x=${gx} y=${y(0) - barH(r.answered)} width=${barW} height=${barH(r.answered)} rx="1" />
          <rect class="bar-failed" x=${gx + barW + 1} y=${y(0) - barH(r.failed)} width=${barW} height=${barH(r.failed)} rx="1" />
          ${r.hour % labelEvery === 0 &&
          html`<text class="chart-tick chart-xtick" x=${x + band / 2} y=${H - 8} text-anchor="middle">${r.hour}</text>`}
        </g>`;
      })}
    </svg>
    <table class="sr-only">
      <caption>${t('dash.trend.title')}</caption>
      <thead><tr><th>${t('dash.trend.hourCol')}</th><th>${t('dash.trend.answered')}</th><th>${t('dash.trend.failed')}</th></tr></thead>
      <tbody>
        ${rows.map((r) => html`<tr key=${r.hour}><td>${p2(r.hour)}:00</td><td>${r.answered}</td><td>${r.failed}</td></tr>`)}
      </tbody>
    </table>
  </div>`;
}

/** '222 队列有 1 位客户在等待' */
export function waitingSentence(queue, n) {
  return t(n === 1 ? 'dash.waiting.lineOne' : 'dash.waiting.lineMany', { queue, n });
}

/** 监控图: callers waiting in each queue now, one column per queue. */
export function WaitingChart({ queues }) {
  const [ref, width] = useWidth(420);
  const list = queues || [];
  const H = 200;
  const m = { top: 18, right: 8, bottom: 40, left: 30 };
  const plotW = Math.max(width - m.left - m.right, 40);
  const plotH = H - m.top - m.bottom;
  const scale = niceScale(Math.max(4, ...list.map((q) => q.waiting || 0)), 4);
  const y = (v) => m.top + plotH - (v / scale.top) * plotH;
  const band = plotW / Math.max(list.length, 1);
  const barW = Math.min(56, Math.max(band * 0.5, 6));

  return html`<div class="chart" ref=${ref}>
    <svg
      class="chart-svg"
      width=${width}
      height=${H}
      viewBox=${`0 0 ${width} ${H}`}
      role="img"
      aria-label=${t('dash.waiting.aria')}
      data-testid="waiting-chart"
    >
      <${YAxis} scale=${scale} x0=${m.left} x1=${m.left + plotW} y=${y} />
      ${list.map((q, i) => {
        const n = q.waiting || 0;
        const cx = m.left + band * i + band / 2;
        const h = n > 0 ? Math.max(y(0) - y(n), 2) : 0;
        return html`<g
          key=${q.queue}
          class=${n > 0 ? 'waiting-col has-waiting' : 'waiting-col'}
          data-testid=${`waiting-bar-${q.queue}`}
          data-waiting=${n}
        >
          <title>${waitingSentence(q.queue, n)}</title>
          <rect class="bar-waiting" x=${cx - barW / 2} y=${y(0) - h} width=${barW} height=${h} rx="2" />
          <text class="waiting-value" x=${cx} y=${y(0) - h - 5} text-anchor="middle">${formatCount(n)}</text>
          <text class="chart-tick waiting-queue" x=${cx} y=${H - 22} text-anchor="middle">${q.queue}</text>
          <text class="chart-tick waiting-name" x=${cx} y=${H - 7} text-anchor="middle">${q.name && q.name !== q.queue ? q.name : ''}</text>
        </g>`;
      })}
    </svg>
  </div>`;
}
