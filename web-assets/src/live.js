// The live stream: GET /api/v1/events (server-sent events), opened while a page that
// shows live state is on screen.
//
// Events (JSON in `data`): `live` {queues, agents, callers, pbx} at connect and on every
// change; `stats` {counts, trend} at connect and when they change. Comment lines keep the
// connection open and are not seen here.
//
// Connection state for the page's indicator:
//   connecting   – first connection in progress
//   open         – connected; events arrive as they happen
//   reconnecting – the stream dropped; EventSource reconnects by itself (network loss),
//                  or, when the server refused the stream (any non-200, e.g. 401/403 after
//                  the session ended), this module asks GET /session: a dead session routes
//                  to the login page / forced change through api.js, otherwise the stream
//                  is reopened after a back-off (1 s doubling to 30 s).
//
// The stream carries no localized text, so it needs no Accept-Language; the session cookie
// is sent by the browser (same origin).

import { useEffect, useRef, useState } from 'preact/hooks';
import { verifySession } from './api.js';

const EVENTS_URL = '/api/v1/events';
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/**
 * Subscribes to the live stream while the calling component is mounted.
 * `handlers` = { live(data), stats(data) }; the latest handlers are always used.
 * Returns the connection state ('connecting' | 'open' | 'reconnecting').
 */
export function useLiveStream(handlers) {
  const [state, setState] = useState('connecting');
  const ref = useRef(handlers);
  ref.current = handlers;

  useEffect(() => {
    let es = null;
    let timer = null;
    let stopped = false;
    let delay = FIRST_RETRY_MS;

    const deliver = (name) => (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return; // a malformed message is dropped; the next one carries the whole state again
      }
      const fn = ref.current && ref.current[name];
      if (fn && data && typeof data === 'object') fn(data);
    };

    function open() {
      if (stopped) return;
      es = new EventSource(EVENTS_URL);
      es.addEventListener('open', () => {
        delay = FIRST_RETRY_MS;
        setState('open');
      });
      es.addEventListener('live', deliver('live'));
      es.addEventListener('stats', deliver('stats'));
      es.addEventListener('error', () => {
        if (stopped) return;
        setState('reconnecting');
        if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        es.close();
        verifySession().then((usable) => {
          if (stopped || !usable) return;
          timer = setTimeout(open, delay);
          delay = Math.min(delay * 2, MAX_RETRY_MS);
        });
      });
    }

    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (es) es.close();
    };
  }, []);

  return state;
}

/** Re-renders the caller every `ms` while `active`; returns Date.now() of the last tick. */
export function useNow(ms, active = true) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms, active]);
  return now;
}
