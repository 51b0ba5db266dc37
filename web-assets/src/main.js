// Entry point: styles, <html lang>, and the app into #app.
import './styles/app.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { applyDocumentLang } from './i18n.js';
import { App } from './app.js';

applyDocumentLang();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
