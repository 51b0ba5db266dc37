// 控制台 (manual §2 控制台访问 → 启动控制台): the Asterisk command line in the browser.
//
// Each command is POST /api/v1/console/command; its output lines are shown under the
// prompt, like the Asterisk CLI. Enter runs the line; ↑/↓ walk the commands typed before
// (like a shell, the line being typed is kept and comes back after the newest one);
// Ctrl+L clears the screen. The server decides which commands are dangerous (stopping or
// restarting Asterisk): they answer 409 `confirmation_required`, and the command is sent
// again with `confirmed: true` only if the admin confirms the server's message in a dialog.
// Errors (503 PBX unreachable, 400 …) are the server's messages, shown inline.
//
// The screen and the command history live as long as the page is loaded (module state),
// so leaving the console and coming back keeps them; logging out forgets them.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Icon } from '../components/icons.js';
import { PageHeader } from '../components/ui.js';

const MAX_ENTRIES = 200;
const MAX_HISTORY = 100;

/** entries: { id, command, state, output, ok, error }; state ∈ running, done, error, confirm, cancelled, empty */
const session = { entries: [], history: [], nextId: 1 };

/** Forgets the screen and the command history (on logout). */
export function resetConsoleSession() {
  session.entries = [];
  session.history = [];
}

function Entry({ entry }) {
  const { state, command } = entry;
  return html`<div class="term-entry" data-testid="console-entry" data-state=${state}>
    <div class="term-cmdline">
      <span class="term-prompt">${t('console.prompt')}</span>
      ${command && html` <span class="term-cmd" data-testid="console-entry-command">${command}</span>`}
    </div>
    ${state === 'running' && html`<div class="term-note term-running">${t('console.running')}</div>`}
    ${state === 'confirm' && html`<div class="term-note">${t('console.awaitConfirm')}</div>`}
    ${state === 'cancelled' && html`<div class="term-note" data-testid="console-entry-cancelled">${t('console.cancelled')}</div>`}
    ${state === 'error' && html`<div class="term-error" data-testid="console-entry-error">${entry.error}</div>`}
    ${state === 'done' &&
    (entry.output.length
      ? html`<pre class=${entry.ok ? 'term-out' : 'term-out term-warn'} data-testid="console-entry-output" data-ok=${entry.ok ? 'true' : 'false'}>${entry.output.join('\n')}</pre>`
      : html`<div class="term-note" data-testid="console-entry-output" data-ok=${entry.ok ? 'true' : 'false'}>${t('console.noOutput')}</div>`)}
  </div>`;
}

export function ConsolePage() {
  const [, setTick] = useState(0);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState(null); // { entry, message } while the dialog is open
  const walk = useRef({ index: null, draft: '' });
  const outRef = useRef(null);
  const inputRef = useRef(null);
  const dialogRef = useRef(null);
  const cancelRef = useRef(null);
  const bump = () => setTick((n) => n + 1);

  const focusInput = () => {
    if (inputRef.current) inputRef.current.focus();
  };
  useEffect(focusInput, []);

  // Keep the newest output in view.
  const last = session.entries[session.entries.length - 1];
  useEffect(() => {
    const out = outRef.current;
    if (out) out.scrollTop = out.scrollHeight;
  }, [session.entries.length, last && last.state]);

  useEffect(() => {
    const d = dialogRef.current;
    if (!d) return;
    if (pending && !d.open) {
      d.showModal();
      if (cancelRef.current) cancelRef.current.focus();
    } else if (!pending && d.open) {
      d.close();
    }
  }, [pending]);

  function add(entry) {
    session.entries.push(entry);
    if (session.entries.length > MAX_ENTRIES) session.entries.splice(0, session.entries.length - MAX_ENTRIES);
    bump();
  }
  function update(entry, patch) {
    Object.assign(entry, patch);
    bump();
  }

  async function run(entry, confirmed) {
    setBusy(true);
    update(entry, { state: 'running' });
    try {
      const res = await api.consoleCommand(entry.command, confirmed);
      const output = res && Array.isArray(res.output) ? res.output.map(String) : [];
      update(entry, { state: 'done', output, ok: !res || res.ok !== false });
    } catch (err) {
      if (err.status === 409 && err.code === 'confirmation_required' && !confirmed) {
        update(entry, { state: 'confirm' });
        setPending({ entry, message: err.message });
      } else {
        update(entry, { state: 'error', error: err.message });
      }
    }
    setBusy(false);
  }

  function submit(e) {
    e.preventDefault();
    if (busy || pending) return;
    const command = input.trim();
    walk.current = { index: null, draft: '' };
    setInput('');
    if (!command) {
      add({ id: session.nextId++, command: '', state: 'empty', output: [] });
      return;
    }
    const h = session.history;
    if (h[h.length - 1] !== command) h.push(command);
    if (h.length > MAX_HISTORY) h.splice(0, h.length - MAX_HISTORY);
    const entry = { id: session.nextId++, command, state: 'running', output: [] };
    add(entry);
    run(entry, false);
  }

  function show(value) {
    setInput(value);
    // The caret goes to the end of the recalled line, as in a shell.
    requestAnimationFrame(() => {
      const el = inputRef.current;
      if (el) el.setSelectionRange(el.value.length, el.value.length);
    });
  }

  function onKeyDown(e) {
    const h = session.history;
    const w = walk.current;
    if (e.key === 'ArrowUp') {
      if (!h.length) return;
      e.preventDefault();
      if (w.index === null) {
        w.draft = input;
        w.index = h.length - 1;
      } else {
        w.index = Math.max(0, w.index - 1);
      }
      show(h[w.index]);
    } else if (e.key === 'ArrowDown') {
      if (w.index === null) return;
      e.preventDefault();
      if (w.index + 1 >= h.length) {
        w.index = null;
        show(w.draft);
      } else {
        w.index += 1;
        show(h[w.index]);
      }
    } else if (e.key === 'l' && e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      clear();
    }
  }

  function clear() {
    session.entries = [];
    bump();
    focusInput();
  }

  function confirm() {
    const p = pending;
    setPending(null);
    if (p) run(p.entry, true);
    focusInput();
  }
  function cancel() {
    const p = pending;
    setPending(null);
    if (p) update(p.entry, { state: 'cancelled' });
    focusInput();
  }

  // A click in the output (not a text selection) goes back to the input line.
  function onOutputMouseUp() {
    const sel = window.getSelection && window.getSelection();
    if (!sel || sel.isCollapsed) focusInput();
  }

  const clearBtn = html`<button type="button" class="btn btn-default" onClick=${clear} data-testid="console-clear" id="console-clear">
    <${Icon} name="eraser" size=${16} />
    <span>${t('console.clear')}</span>
  </button>`;

  return html`<div class="page console-page" data-testid="console-page">
    <${PageHeader}
      title=${t('page.console')}
      eyebrow=${t('settings.console.title')}
      description=${t('console.desc')}
      actions=${clearBtn}
    />
    <section class="term" aria-label=${t('console.label')}>
      <div class="term-screen" ref=${outRef} role="log" aria-live="polite" data-testid="console-output" onMouseUp=${onOutputMouseUp}>
        ${session.entries.length === 0 && html`<p class="term-welcome">${t('console.welcome')}</p>`}
        ${session.entries.map((entry) => html`<${Entry} key=${entry.id} entry=${entry} />`)}
      </div>
      <form class="term-inputline" onSubmit=${submit} autocomplete="off">
        <label class="term-prompt" for="console-input">${t('console.prompt')}</label>
        <input
          id="console-input"
          data-testid="console-input"
          class="term-input"
          ref=${inputRef}
          type="text"
          value=${input}
          readOnly=${busy}
          aria-busy=${busy ? 'true' : 'false'}
          aria-label=${t('console.inputLabel')}
          aria-describedby="console-hint"
          autocomplete="off"
          autocapitalize="off"
          spellcheck=${false}
          enterkeyhint="send"
          onInput=${(e) => setInput(e.currentTarget.value)}
          onKeyDown=${onKeyDown}
        />
      </form>
    </section>
    <p class="field-hint term-hint" id="console-hint">${t('console.hint')}</p>

    <dialog
      class="dialog"
      ref=${dialogRef}
      aria-labelledby="console-confirm-title"
      data-testid="console-confirm"
      onCancel=${(e) => {
        e.preventDefault();
        cancel();
      }}
    >
      ${pending &&
      html`<form method="dialog" class="dialog-body" onSubmit=${(e) => {
        e.preventDefault();
        confirm();
      }}>
        <div class="dialog-head">
          <span class="dialog-icon"><${Icon} name="alert" size=${20} /></span>
          <h2 class="dialog-title" id="console-confirm-title">${t('console.confirm.title')}</h2>
        </div>
        <p class="dialog-text" data-testid="console-confirm-message">${pending.message}</p>
        <code class="dialog-cmd mono" data-testid="console-confirm-command">${pending.entry.command}</code>
        <div class="dialog-actions">
          <button type="button" class="btn btn-default" ref=${cancelRef} onClick=${cancel} data-testid="console-confirm-cancel">
            ${t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-danger" data-testid="console-confirm-ok">${t('console.confirm.ok')}</button>
        </div>
      </form>`}
    </dialog>
  </div>`;
}
