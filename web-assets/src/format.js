// Number, size and duration wording for the current language (words from messages.js).

import { langTag, t } from './i18n.js';

/** 1234 → '1,234' */
export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return new Intl.NumberFormat(langTag()).format(n);
}

/**
 * Uptime in days, hours and minutes: '3天 4小时 12分' / '3d 4h 12m'. Days only when there
 * are any, hours when there are days or hours, minutes always.
 */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  const total = Math.floor(seconds / 60);
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  const parts = [];
  if (d) parts.push(t('dur.days', { n: d }));
  if (d || h) parts.push(t('dur.hours', { n: h }));
  parts.push(t('dur.minutes', { n: m }));
  return parts.join(' ');
}

/** A waiting time as a clock: '0:07', '12:30', '1:02:03'. */
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const p2 = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${p2(m)}:${p2(s % 60)}` : `${m}:${p2(s % 60)}`;
}

const UNITS = ['size.B', 'size.KB', 'size.MB', 'size.GB', 'size.TB'];

/**
 * Bytes in binary multiples (1 KB = 1024 B, as file managers show disks and memory):
 * 7516192768 → '7.0 GB', 512000000 → '488 MB'. One decimal below 100.
 */
export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '–';
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i += 1;
  }
  const n = i === 0 ? String(v) : v < 100 ? v.toFixed(1) : String(Math.round(v));
  return t(UNITS[i], { n });
}

/** 'HH:MM:SS' of a Date in the browser's time zone. */
export function formatTimeOfDay(date) {
  const p2 = (n) => String(n).padStart(2, '0');
  return `${p2(date.getHours())}:${p2(date.getMinutes())}:${p2(date.getSeconds())}`;
}

/**
 * The date and time of an RFC 3339 stamp as the device wrote it, 'YYYY-MM-DD HH:mm:ss'
 * (the device's own clock and time zone, which is also what the server's search matches:
 * the logs are searched "as shown"). Anything else is shown as it came.
 */
export function formatStamp(rfc3339) {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(String(rfc3339 || ''));
  return m ? `${m[1]} ${m[2]}` : String(rfc3339 || '');
}
