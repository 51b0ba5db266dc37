// Modal dialogs on the native <dialog> element (showModal: focus trap, Escape, backdrop),
// as the console's confirmation does. `open` drives it; Escape asks `onClose` (nothing
// closes by itself, so a dialog with an error stays open until the user closes it).

import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n.js';
import { Icon } from './icons.js';
import { Alert } from './ui.js';

/**
 * A modal dialog; `children` are rendered only while open. The first control with
 * `autofocus` (else the first focusable one) gets the focus when it opens.
 */
export function Modal({ open, onClose, labelledBy, testid, wide = false, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    else if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog
    class=${wide ? 'dialog dialog-wide' : 'dialog'}
    ref=${ref}
    aria-labelledby=${labelledBy}
    data-testid=${testid}
    onCancel=${(e) => {
      e.preventDefault();
      if (onClose) onClose();
    }}
  >${open ? children : null}</dialog>`;
}

/**
 * Are you sure? `tone` 'danger' (red, for deletions) or 'warn' (amber, for changes with a
 * side effect). The confirm button is disabled while `busy`; `error` (the server's
 * message) is shown inside, and the dialog stays open. Cancel has the focus first.
 */
export function ConfirmDialog({
  open,
  testid,
  title,
  message,
  children,
  confirmLabel,
  tone = 'danger',
  busy = false,
  error = '',
  onConfirm,
  onCancel,
}) {
  const titleId = `${testid}-title`;
  return html`<${Modal} open=${open} onClose=${busy ? null : onCancel} labelledBy=${titleId} testid=${testid}>
    <form
      method="dialog"
      class="dialog-body"
      onSubmit=${(e) => {
        e.preventDefault();
        if (!busy) onConfirm();
      }}
    >
      <div class="dialog-head">
        <span class=${`dialog-icon dialog-icon-${tone}`}><${Icon} name="alert" size=${20} /></span>
        <h2 class="dialog-title" id=${titleId}>${title}</h2>
      </div>
      ${message && html`<p class="dialog-text" data-testid=${`${testid}-message`}>${message}</p>`}
      ${children}
      <${Alert} kind="error" testid=${`${testid}-error`}>${error}<//>
      <div class="dialog-actions">
        <button
          type="button"
          class="btn btn-default"
          autofocus
          disabled=${busy}
          onClick=${onCancel}
          data-testid=${`${testid}-cancel`}
        >${t('common.cancel')}</button>
        <button
          type="submit"
          class=${tone === 'danger' ? 'btn btn-danger' : 'btn btn-primary'}
          disabled=${busy}
          data-testid=${`${testid}-ok`}
        >${confirmLabel}</button>
      </div>
    </form>
  <//>`;
}
