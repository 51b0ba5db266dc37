// Language state: Chinese by default, English on request.
//
// The choice is kept in localStorage ('coocenter.lang'), mirrored into <html lang>,
// and sent with every API request as Accept-Language (see api.js) so that the
// server answers errors in the same language.

import { useEffect, useState } from 'preact/hooks';
import { messages } from './messages.js';

export const LANGS = ['zh', 'en'];
const STORAGE_KEY = 'coocenter.lang';
const listeners = new Set();

let current = readStored();

function readStored() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch {
    // storage disabled: fall back to the default
  }
  return 'zh';
}

/** 'zh' or 'en'. */
export function getLang() {
  return current;
}

/** The value for Accept-Language and <html lang>. */
export function langTag(lang = current) {
  return lang === 'en' ? 'en' : 'zh-CN';
}

export function applyDocumentLang() {
  document.documentElement.lang = langTag();
}

export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered, still switched
  }
  applyDocumentLang();
  for (const fn of listeners) fn(lang);
}

/** Translate `key`, filling `{name}` placeholders from `params`. */
export function t(key, params) {
  let s = messages[current][key] ?? messages.zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** Re-render the calling component when the language changes; returns the language. */
export function useLang() {
  const [lang, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    if (current !== lang) set(current);
    return () => listeners.delete(set);
  }, []);
  return lang;
}
