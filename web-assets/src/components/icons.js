// Line icons drawn for this console (24×24 grid, stroke = currentColor).
// Each entry is a function so every use gets fresh vnodes.

import { html } from 'htm/preact';

const PATHS = {
  dashboard: () => html`<rect x="3.5" y="3.5" width="7" height="8" rx="1.2" /><rect x="13.5" y="3.5" width="7" height="5" rx="1.2" /><rect x="13.5" y="11.5" width="7" height="9" rx="1.2" /><rect x="3.5" y="14.5" width="7" height="6" rx="1.2" />`,
  agents: () => html`<path d="M4.5 14v-2a7.5 7.5 0 0 1 15 0v2" /><rect x="3.5" y="13.5" width="4" height="6" rx="1.2" /><rect x="16.5" y="13.5" width="4" height="6" rx="1.2" /><path d="M18.5 19.5c0 1.2-1.5 2-4 2h-1.5" />`,
  queues: () => html`<path d="M9 6.5h11M9 12h11M9 17.5h11" /><circle cx="4.8" cy="6.5" r="1.3" /><circle cx="4.8" cy="12" r="1.3" /><circle cx="4.8" cy="17.5" r="1.3" />`,
  recordings: () => html`<rect x="9" y="3" width="6" height="11" rx="3" /><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M9 21h6" />`,
  voicemail: () => html`<circle cx="6.5" cy="12" r="3.5" /><circle cx="17.5" cy="12" r="3.5" /><path d="M6.5 15.5h11" />`,
  oplog: () => html`<path d="M6 3.5h8.5l4 4v13H6z" /><path d="M14 3.5v4.5h4.5M9 12.5h6.5M9 16.5h6.5" />`,
  advanced: () => html`<path d="M4 6.5h9M17 6.5h3M4 12h3M11 12h9M4 17.5h11M19 17.5h1" /><circle cx="15" cy="6.5" r="2" /><circle cx="9" cy="12" r="2" /><circle cx="17" cy="17.5" r="2" />`,
  pbx: () => html`<rect x="3.5" y="4" width="17" height="7" rx="1.5" /><rect x="3.5" y="13" width="17" height="7" rx="1.5" /><path d="M7 7.5h.01M7 16.5h.01M11 7.5h6M11 16.5h6" />`,
  book: () => html`<path d="M3.5 5.5c2.8-.9 5.6-.6 8.5 1.2 2.9-1.8 5.7-2.1 8.5-1.2v13c-2.8-.9-5.6-.6-8.5 1.2-2.9-1.8-5.7-2.1-8.5-1.2z" /><path d="M12 6.7v13" />`,
  external: () => html`<path d="M14 4h6v6M20 4l-8.5 8.5M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5" />`,
  chevronDown: () => html`<path d="M6 9l6 6 6-6" />`,
  chevronRight: () => html`<path d="M9 6l6 6-6 6" />`,
  user: () => html`<circle cx="12" cy="8" r="4" /><path d="M4 20.5a8 8 0 0 1 16 0" />`,
  lock: () => html`<rect x="5" y="10.5" width="14" height="10" rx="2" /><path d="M8.5 10.5V7.5a3.5 3.5 0 0 1 7 0v3M12 14.5v2.5" />`,
  menu: () => html`<path d="M4 6.5h16M4 12h16M4 17.5h16" />`,
  info: () => html`<circle cx="12" cy="12" r="9" /><path d="M12 8h.01M11 11.5h1v5h1" />`,
  alert: () => html`<circle cx="12" cy="12" r="9" /><path d="M12 7.5v5.5M12 16.5h.01" />`,
  check: () => html`<circle cx="12" cy="12" r="9" /><path d="M8 12.5l2.8 2.8L16.5 9.5" />`,
  settings: () => html`<circle cx="12" cy="12" r="3" /><path d="M12 2.8v2.6M12 18.6v2.6M2.8 12h2.6M18.6 12h2.6M5.5 5.5l1.8 1.8M16.7 16.7l1.8 1.8M5.5 18.5l1.8-1.8M16.7 7.3l1.8-1.8" />`,
  logout: () => html`<path d="M9.5 20.5H5.5a1 1 0 0 1-1-1v-15a1 1 0 0 1 1-1h4M15.5 16.5L20 12l-4.5-4.5M20 12H9.5" />`,
  terminal: () => html`<rect x="3" y="4.5" width="18" height="15" rx="2" /><path d="M7 9.5l3 2.5-3 2.5M12.5 15h4.5" />`,
  globe: () => html`<circle cx="12" cy="12" r="9" /><path d="M3 12h18M12 3c2.5 2.6 3.6 5.6 3.6 9s-1.1 6.4-3.6 9c-2.5-2.6-3.6-5.6-3.6-9S9.5 5.6 12 3z" />`,
  refresh: () => html`<path d="M20 11a8 8 0 0 0-14.3-4.5L4 8.5M4 4v4.5h4.5M4 13a8 8 0 0 0 14.3 4.5l1.7-2M20 20v-4.5h-4.5" />`,
  eraser: () => html`<path d="M8.5 20.5h11M4.7 14.3l9-9a1.5 1.5 0 0 1 2.1 0l3.4 3.4a1.5 1.5 0 0 1 0 2.1l-8.3 8.3a2 2 0 0 1-1.4.6H7.6a2 2 0 0 1-1.4-.6l-1.5-1.5a1.5 1.5 0 0 1 0-2.1zM9.5 9.5l5.5 5.5" />`,
  chevronLeft: () => html`<path d="M15 6l-6 6 6 6" />`,
  search: () => html`<circle cx="10.5" cy="10.5" r="6.5" /><path d="M15.5 15.5L20.5 20.5" />`,
  eye: () => html`<path d="M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12z" /><circle cx="12" cy="12" r="3" />`,
  eyeOff: () => html`<path d="M9.9 5.8A9.6 9.6 0 0 1 12 5.5c6 0 9.5 6.5 9.5 6.5a17 17 0 0 1-2.6 3.4M6.6 6.9C4 8.6 2.5 12 2.5 12S6 18.5 12 18.5c1.8 0 3.3-.5 4.6-1.3M9.9 9.9a3 3 0 0 0 4.2 4.2M3.5 3.5l17 17" />`,
  plus: () => html`<path d="M12 5v14M5 12h14" />`,
  edit: () => html`<path d="M4 20h4.5L19 9.5a2.1 2.1 0 0 0-3-3L5.5 17 4 20zM14.5 8l3 3" />`,
  trash: () => html`<path d="M4.5 6.5h15M9.5 6.5V4.5h5v2M6.5 6.5l1 13.5h9l1-13.5M10 10.5v6M14 10.5v6" />`,
  close: () => html`<path d="M6.5 6.5l11 11M17.5 6.5l-11 11" />`,
  pause: () => html`<rect x="6.5" y="5" width="3.5" height="14" rx="1" /><rect x="14" y="5" width="3.5" height="14" rx="1" />`,
  play: () => html`<path d="M7.5 5.2v13.6a.8.8 0 0 0 1.2.7l10.6-6.8a.8.8 0 0 0 0-1.4L8.7 4.5a.8.8 0 0 0-1.2.7z" />`,
  upload: () => html`<path d="M12 15.5V4M7.5 8.5L12 4l4.5 4.5M4.5 15v4a1.5 1.5 0 0 0 1.5 1.5h12a1.5 1.5 0 0 0 1.5-1.5v-4" />`,
  download: () => html`<path d="M12 4v11.5M7.5 11L12 15.5 16.5 11M4.5 15v4a1.5 1.5 0 0 0 1.5 1.5h12a1.5 1.5 0 0 0 1.5-1.5v-4" />`,
  copy: () => html`<rect x="8.5" y="8.5" width="12" height="12" rx="2" /><path d="M15.5 8.5V5a1.5 1.5 0 0 0-1.5-1.5H5A1.5 1.5 0 0 0 3.5 5v9A1.5 1.5 0 0 0 5 15.5h3.5" />`,
};

export function Icon({ name, size = 16, class: cls = '' }) {
  const draw = PATHS[name];
  return html`<svg
    class=${'icon ' + cls}
    width=${size}
    height=${size}
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    stroke-width="1.7"
    stroke-linecap="round"
    stroke-linejoin="round"
    aria-hidden="true"
    focusable="false"
  >${draw ? draw() : null}</svg>`;
}

/** The product mark: a headset in a rounded square (same drawing as favicon.svg). */
export function Logo({ size = 28 }) {
  return html`<svg class="logo" width=${size} height=${size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="7" fill="#1668dc" />
    <path d="M8.5 18v-3a7.5 7.5 0 0 1 15 0v3" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" />
    <rect x="7" y="16.5" width="4.2" height="7" rx="1.6" fill="#fff" />
    <rect x="20.8" y="16.5" width="4.2" height="7" rx="1.6" fill="#fff" />
    <path d="M23 23.5c0 1.6-2 2.5-5 2.5" fill="none" stroke="#9cc3ff" stroke-width="1.8" stroke-linecap="round" />
  </svg>`;
}
