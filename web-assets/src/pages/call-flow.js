// 高级设置 → 其他设置 (manual §9.2): the call-flow settings as one form saved as a whole
// (PUT /api/v1/settings/call-flow), and the 满意度调查 report (GET /api/v1/reports/survey).
//
// - Switches: 隐藏电话号码, 满意度调查, 直呼分配坐席, 播放工号; selects: 播放开始语音 and
//   播放结束语音 (none or one of the prompts of 语音管理, with their length), the survey's
//   question (a beep when none); the inbound and outbound screen-pop templates.
// - The 10 s rule: the sum of start prompt, job number and end prompt is shown as the
//   choices change (prompt lengths from the server's list, the job number's from the
//   server: the longest of the agents' job numbers, measured from Asterisk's digit sounds or
//   estimated at 0.8 s a digit, and the page says which). The server checks it again on
//   save; its refusal (with every figure) is shown as it comes.
// - A refusal about one field shows under that field; nothing was saved. A save while the
//   PBX is away says the change will be applied when it is back (`pending`).

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, isAuthRedirect } from '../api.js';
import { t } from '../i18n.js';
import { Alert, Card, FieldShell, PageHeader, Spinner, describedBy } from '../components/ui.js';

const SWITCHES = ['hide_numbers', 'survey', 'direct_assign'];
const secs = (ms) => (Number(ms || 0) / 1000).toFixed(1);

function Switch({ id, label, hint, checked, onChange, disabled }) {
  return html`<div class="setting-row">
    <div class="setting-text">
      <span class="setting-label" id=${`${id}-label`}>${label}</span>
      ${hint && html`<span class="field-hint" id=${`${id}-hint`}>${hint}</span>`}
    </div>
    <button
      type="button"
      role="switch"
      class="switch"
      id=${id}
      data-testid=${id}
      aria-checked=${checked ? 'true' : 'false'}
      aria-labelledby=${`${id}-label`}
      aria-describedby=${hint ? `${id}-hint` : undefined}
      disabled=${disabled}
      onClick=${() => onChange(!checked)}
    ><span class="switch-knob"></span></button>
  </div>`;
}

function PromptSelect({ id, label, value, prompts, noneLabel, error, onChange, disabled }) {
  return html`<${FieldShell} id=${id} label=${label} error=${error}>
    <select
      id=${id}
      data-testid=${id}
      class="input select"
      value=${value || ''}
      disabled=${disabled}
      aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${describedBy(id, null, error)}
      onChange=${(e) => onChange(e.currentTarget.value || null)}
    >
      <option value="">${noneLabel}</option>
      ${prompts.map(
        (p) => html`<option key=${p.name} value=${p.name}>${t('flow.promptOption', { name: p.name, secs: secs(p.duration_ms) })}</option>`,
      )}
      ${value && !prompts.some((p) => p.name === value) && html`<option value=${value}>${value}</option>`}
    </select>
  <//>`;
}

function TemplateField({ id, label, value, onInput, error, hint, disabled }) {
  return html`<${FieldShell} id=${id} label=${label} hint=${hint} error=${error}>
    <input
      id=${id}
      data-testid=${id}
      class="input mono"
      type="url"
      value=${value}
      placeholder="https://crm.example/pop?tel={caller}"
      spellcheck=${false}
      disabled=${disabled}
      aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${describedBy(id, hint, error)}
      onInput=${(e) => onInput(e.currentTarget.value)}
    />
  <//>`;
}

function CallFlowForm() {
  const [data, setData] = useState(null);
  const [form, setForm] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [error, setError] = useState({ field: null, message: '' });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');

  function accept(d) {
    setData(d);
    setForm({ ...d.settings });
  }

  async function load() {
    setLoadError('');
    try {
      accept(await api.callFlow());
    } catch (err) {
      if (!isAuthRedirect(err)) setLoadError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);

  if (!form) {
    return loadError
      ? html`<div class="alert-row">
          <${Alert} kind="error" testid="flow-load-error">${loadError}<//>
          <button type="button" class="btn btn-default btn-sm" onClick=${load}>${t('common.retry')}</button>
        </div>`
      : html`<${Spinner} />`;
  }

  const set = (key, value) => {
    setForm({ ...form, [key]: value });
    setSaved('');
    if (error.field === key || error.field === 'play') setError({ field: null, message: '' });
  };
  const prompts = Array.isArray(data.prompts) ? data.prompts : [];
  const length = (name) => (prompts.find((p) => p.name === name) || {}).duration_ms || 0;
  const figures = data.figures || {};
  const startMs = form.start_prompt ? length(form.start_prompt) : 0;
  const endMs = form.end_prompt ? length(form.end_prompt) : 0;
  const jobMs = form.play_job_number ? data.job_number_say_ms || 0 : 0;
  const totalMs = startMs + jobMs + endMs;
  const limitMs = figures.limit_ms || 10000;
  const over = totalMs > limitMs;
  const fieldError = (f) => (error.field === f ? error.message : '');
  const general = error.message && !['start_prompt', 'end_prompt', 'survey_prompt', 'screen_pop_inbound', 'screen_pop_outbound'].includes(error.field);

  async function save(e) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setSaved('');
    setError({ field: null, message: '' });
    try {
      const d = await api.saveCallFlow(form);
      accept(d);
      setSaved(d.pending ? t('flow.savedPending') : t('flow.saved'));
    } catch (err) {
      if (!isAuthRedirect(err)) setError({ field: err.field, message: err.message });
    }
    setBusy(false);
  }

  return html`<form class="stack" onSubmit=${save} data-testid="flow-form" novalidate>
    ${data.pending && !saved && html`<${Alert} kind="info" testid="flow-pending">${t('flow.pending')}<//>`}
    <${Card} title=${t('flow.switches')} testid="card-flow-switches">
      ${SWITCHES.map(
        (key) => html`<${Switch}
          key=${key}
          id=${`flow-${key}`}
          label=${t(`flow.${key}`)}
          hint=${t(`flow.${key}.hint`)}
          checked=${Boolean(form[key])}
          disabled=${busy}
          onChange=${(v) => set(key, v)}
        />`,
      )}
      ${form.survey &&
      html`<div class="narrow">
        <${PromptSelect}
          id="flow-survey_prompt"
          label=${t('flow.survey_prompt')}
          value=${form.survey_prompt}
          prompts=${prompts}
          noneLabel=${t('flow.beep')}
          error=${fieldError('survey_prompt')}
          disabled=${busy}
          onChange=${(v) => set('survey_prompt', v)}
        />
      </div>`}
    <//>

    <${Card} title=${t('flow.play')} description=${t('flow.play.desc')} testid="card-flow-play">
      <div class="narrow">
        <${PromptSelect}
          id="flow-start_prompt"
          label=${t('flow.start_prompt')}
          value=${form.start_prompt}
          prompts=${prompts}
          noneLabel=${t('flow.noPrompt')}
          error=${fieldError('start_prompt')}
          disabled=${busy}
          onChange=${(v) => set('start_prompt', v)}
        />
      </div>
      <${Switch}
        id="flow-play_job_number"
        label=${t('flow.play_job_number')}
        hint=${data.figures && data.figures.digit_source === 'measured'
          ? t('flow.digits.measured')
          : t('flow.digits.estimated', { secs: secs(figures.per_digit_estimate_ms || 800) })}
        checked=${Boolean(form.play_job_number)}
        disabled=${busy}
        onChange=${(v) => set('play_job_number', v)}
      />
      <div class="narrow">
        <${PromptSelect}
          id="flow-end_prompt"
          label=${t('flow.end_prompt')}
          value=${form.end_prompt}
          prompts=${prompts}
          noneLabel=${t('flow.noPrompt')}
          error=${fieldError('end_prompt')}
          disabled=${busy}
          onChange=${(v) => set('end_prompt', v)}
        />
      </div>
      ${prompts.length === 0 && html`<p class="muted" data-testid="flow-no-prompts">${t('flow.noPrompts')}</p>`}
      <p class=${over ? 'play-total over' : 'play-total'} data-testid="flow-total" data-over=${over ? 'true' : 'false'}>
        ${t('flow.total', { start: secs(startMs), job: secs(jobMs), end: secs(endMs), total: secs(totalMs), limit: secs(limitMs) })}
      </p>
      ${over && html`<${Alert} kind="error" testid="flow-over">${t('flow.over')}<//>`}
    <//>

    <${Card} title=${t('flow.screenPop')} description=${t('flow.screenPop.desc', { placeholders: (data.placeholders || []).join(' ') })} testid="card-flow-pop">
      <${TemplateField}
        id="flow-screen_pop_inbound"
        label=${t('flow.screen_pop_inbound')}
        value=${form.screen_pop_inbound}
        error=${fieldError('screen_pop_inbound')}
        disabled=${busy}
        onInput=${(v) => set('screen_pop_inbound', v)}
      />
      <${TemplateField}
        id="flow-screen_pop_outbound"
        label=${t('flow.screen_pop_outbound')}
        hint=${t('flow.outbound.hint')}
        value=${form.screen_pop_outbound}
        error=${fieldError('screen_pop_outbound')}
        disabled=${busy}
        onInput=${(v) => set('screen_pop_outbound', v)}
      />
    <//>

    ${general && html`<${Alert} kind="error" testid="flow-error">${error.message}<//>`}
    ${saved && html`<p class="saved-note" role="status" data-testid="flow-saved">${saved}</p>`}
    <div class="form-actions">
      <button type="submit" class="btn btn-primary" data-testid="flow-save" disabled=${busy}>
        ${busy ? t('flow.saving') : t('flow.save')}
      </button>
      <button type="button" class="btn btn-default" data-testid="flow-reset" disabled=${busy} onClick=${() => { setForm({ ...data.settings }); setError({ field: null, message: '' }); setSaved(''); }}>
        ${t('flow.reset')}
      </button>
    </div>
  </form>`;
}

function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function SurveyReport() {
  const [from, setFrom] = useState(today(-29));
  const [to, setTo] = useState(today());
  const [report, setReport] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function load(e) {
    if (e) e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setReport(await api.surveyReport(from, to));
    } catch (err) {
      if (!isAuthRedirect(err)) setError(err.message);
    }
    setBusy(false);
  }
  useEffect(() => {
    load();
  }, []);

  const rows = report && Array.isArray(report.agents) ? report.agents : [];
  const line = (r, key, testid) => html`<tr key=${key} data-testid=${testid}>
    <td>${r.agent_name || t('flow.report.allAgents')}</td>
    <td class="mono">${r.job_number}</td>
    <td class="num">${r.count}</td>
    <td class="num">${r.count ? Number(r.average).toFixed(2) : '—'}</td>
    ${(r.distribution || []).map((n, i) => html`<td class="num" key=${i}>${n}</td>`)}
  </tr>`;

  return html`<div>
    <form class="filter-row" onSubmit=${load} data-testid="survey-form">
      <label class="field-label" for="survey-from">${t('flow.report.from')}</label>
      <input id="survey-from" data-testid="survey-from" class="input" type="date" value=${from} onInput=${(e) => setFrom(e.currentTarget.value)} />
      <label class="field-label" for="survey-to">${t('flow.report.to')}</label>
      <input id="survey-to" data-testid="survey-to" class="input" type="date" value=${to} onInput=${(e) => setTo(e.currentTarget.value)} />
      <button type="submit" class="btn btn-default" data-testid="survey-load" disabled=${busy}>${t('flow.report.load')}</button>
    </form>
    <${Alert} kind="error" testid="survey-error">${error}<//>
    ${report &&
    (rows.length === 0
      ? html`<p class="muted" data-testid="survey-empty">${t('flow.report.empty')}</p>`
      : html`<div class="table-wrap">
          <table class="table" data-testid="survey-table">
            <thead>
              <tr>
                <th>${t('agents.col.name')}</th>
                <th>${t('agents.col.jobNumber')}</th>
                <th class="num">${t('flow.report.count')}</th>
                <th class="num">${t('flow.report.average')}</th>
                ${[1, 2, 3, 4, 5].map((n) => html`<th class="num" key=${n}>${t('flow.report.score', { n })}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${rows.map((r) => line(r, `${r.job_number}/${r.agent_name}`, 'survey-row'))}
              ${line(report.total, 'total', 'survey-total')}
            </tbody>
          </table>
        </div>`)}
  </div>`;
}

export function CallFlowPage() {
  return html`<div class="page page-narrow" data-testid="call-flow-page">
    <${PageHeader} title=${t('nav.settings')} eyebrow=${t('nav.advanced')} description=${t('flow.desc')} />
    <div class="stack">
      <${CallFlowForm} />
      <${Card} title=${t('flow.report')} description=${t('flow.report.desc')} testid="card-survey">
        <${SurveyReport} />
      <//>
    </div>
  </div>`;
}
