// A section that is not built yet: its title and one plain sentence, nothing else.

import { html } from 'htm/preact';
import { t } from '../i18n.js';
import { Icon } from '../components/icons.js';
import { PageHeader } from '../components/ui.js';

export function NotAvailablePage({ title, eyebrow }) {
  return html`<div class="page">
    <${PageHeader} title=${title} eyebrow=${eyebrow} />
    <section class="card empty" data-testid="not-available">
      <${Icon} name="info" size=${20} class="empty-icon" />
      <p>${t('page.notAvailable')}</p>
    </section>
  </div>`;
}

export function NotFoundPage() {
  return html`<div class="page">
    <${PageHeader} title=${t('page.notFound')} />
    <section class="card empty" data-testid="not-found">
      <${Icon} name="alert" size=${20} class="empty-icon" />
      <p>${t('page.notFoundText')}</p>
      <a class="btn btn-default" href="#/dashboard">${t('page.backHome')}</a>
    </section>
  </div>`;
}
