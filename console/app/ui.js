// Shared pieces of every page: forms with labelled inputs and their errors, badges, cards, a
// timeline, stars, countdowns, and the hook that loads a page's data and reloads it on a live notice.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { ApiError } from './api.js';
import { onChange } from './live.js';
import { statusTone, statusWord, tr, when } from './i18n.js';
import { Icon } from './icons.js';

let nextId = 0;
const useId = (prefix) => useRef(`${prefix}-${++nextId}`).current;

/** Load data for a page; reload when a live notice passes `relevant` (debounced), or on demand. */
export function useLoad(loader, deps = [], relevant = null) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const latest = useRef(loader);
  latest.current = loader;
  const load = useCallback(async () => {
    setState((old) => ({ ...old, loading: true }));
    try {
      const data = await latest.current();
      setState({ data, error: null, loading: false });
    } catch (error) {
      setState((old) => ({ data: old.data, error, loading: false }));
    }
  }, []);
  useEffect(() => {
    load();
  }, deps);
  useEffect(() => {
    if (!relevant) return undefined;
    let soon = null;
    let later = null;
    const stop = onChange((change) => {
      if (!relevant(change)) return;
      clearTimeout(soon);
      clearTimeout(later);
      // Read at once, and once more a moment later: the notice comes from the accounts service,
      // and the service this page reads may apply the same event a little after it.
      soon = setTimeout(load, 300);
      later = setTimeout(load, 2500);
    });
    return () => {
      stop();
      clearTimeout(soon);
      clearTimeout(later);
    };
  }, deps);
  return { ...state, reload: load };
}

/** Run a form's action; keep its error (and the fields it names) until the next try. */
export function useAction(action) {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const run = async (...args) => {
    setState({ busy: true, error: null, done: null });
    try {
      const done = await action(...args);
      setState({ busy: false, error: null, done: done ?? true });
      return done;
    } catch (error) {
      setState({ busy: false, error, done: null });
      return undefined;
    }
  };
  return { ...state, run, fieldError: (name) => state.error?.fields?.[name] };
}

export function Page({ title, children, actions }) {
  useEffect(() => {
    document.title = `${title} · ${tr('古田县志愿服务', 'Gutian volunteer service')}`;
  }, [title]);
  return html`<section class="page" aria-labelledby="page-title">
    <div class="page-head">
      <h1 id="page-title" tabindex="-1">${title}</h1>
      ${actions}
    </div>
    ${children}
  </section>`;
}

export function Field({ label, hint, error, children, id }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return html`<div class=${`field${error ? ' has-error' : ''}`}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
    ${children({ id, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') || undefined, 'aria-invalid': error ? 'true' : undefined })}
    ${error && html`<p class="field-error" id=${errorId}>${error}</p>`}
  </div>`;
}

export function TextInput({ label, hint, error, value, onInput, type = 'text', name, ...rest }) {
  const id = useId(name || 'input');
  return html`<${Field} label=${label} hint=${hint} error=${error} id=${id}>
    ${(aria) => html`<input ...${aria} name=${name} type=${type} value=${value ?? ''}
      onInput=${(event) => onInput(event.currentTarget.value)} ...${rest} />`}
  <//>`;
}

export function TextArea({ label, hint, error, value, onInput, name, rows = 3, ...rest }) {
  const id = useId(name || 'text');
  return html`<${Field} label=${label} hint=${hint} error=${error} id=${id}>
    ${(aria) => html`<textarea ...${aria} name=${name} rows=${rows}
      onInput=${(event) => onInput(event.currentTarget.value)} ...${rest}>${value ?? ''}</textarea>`}
  <//>`;
}

export function Select({ label, hint, error, value, onChange: change, options, name, placeholder, ...rest }) {
  const id = useId(name || 'select');
  return html`<${Field} label=${label} hint=${hint} error=${error} id=${id}>
    ${(aria) => html`<select ...${aria} name=${name} value=${value ?? ''}
        onChange=${(event) => change(event.currentTarget.value)} ...${rest}>
      ${placeholder !== undefined && html`<option value="">${placeholder}</option>`}
      ${options.map(([optionValue, text]) => html`<option value=${optionValue} selected=${optionValue === value}>${text}</option>`)}
    </select>`}
  <//>`;
}

/** A radio group drawn as large choices (urgency, tier, outcome): one tab stop, arrows move. */
export function Choices({ legend, name, value, onChange: change, options, error, columns, cards }) {
  const errorId = useId('choices-error');
  return html`<fieldset class=${`choices${columns ? ` cols-${columns}` : ''}${cards ? ' cards-like' : ''}${error ? ' has-error' : ''}`}
      aria-describedby=${error ? errorId : undefined}>
    <legend>${legend}</legend>
    ${options.map(
      ([optionValue, text, detail, icon]) => html`<label class=${`choice${optionValue === value ? ' chosen' : ''}`}>
        <input type="radio" name=${name} value=${optionValue} checked=${optionValue === value}
          onChange=${() => change(optionValue)} />
        ${icon && html`<${Icon} name=${icon} size=${32} />`}
        <span class="choice-text">${text}${detail && html`<small>${detail}</small>`}</span>
      </label>`,
    )}
    ${error && html`<p class="field-error" id=${errorId}>${error}</p>`}
  </fieldset>`;
}

export function Button({ kind = 'primary', busy, children, ...rest }) {
  return html`<button class=${`button ${kind}`} disabled=${busy || rest.disabled} aria-busy=${busy ? 'true' : undefined} ...${rest}>
    ${children}
  </button>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? error.status === 403
        ? tr('您没有权限做这件事。', 'You may not do this.')
        : error.status === 404
          ? tr('没有找到。', 'Not found.')
          : error.status === 429
            ? tr('操作太频繁，请稍后再试。', 'Too many tries; please wait a moment.')
            : error.message
      : tr('网络不通，请稍后再试。', 'The network is not answering; please try again.');
  return html`<p class="alert error" role="alert">${text}</p>`;
}

export function Done({ children }) {
  return html`<p class="alert ok" role="status">${children}</p>`;
}

export function Loading({ state }) {
  if (state.loading && !state.data) return html`<p class="muted" role="status">${tr('正在加载…', 'Loading…')}</p>`;
  return html`<${ErrorBox} error=${state.error} />`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

export function StatusBadge({ status, text }) {
  return html`<span class=${`badge tone-${statusTone(status)}`} data-status=${status}>${text || statusWord(status)}</span>`;
}

export function Badge({ tone = 'wait', children }) {
  return html`<span class=${`badge tone-${tone}`}>${children}</span>`;
}

export function Timeline({ steps, bi }) {
  if (!steps?.length) return null;
  return html`<ol class="timeline" aria-label=${tr('进度', 'Progress')}>
    ${steps.map(
      (step) => html`<li class=${`step tone-${statusTone(step.status_after)}`}>
        <span class="step-when">${bi(step.when)}</span>
        <span class="step-said">${bi(step.said)}</span>
      </li>`,
    )}
  </ol>`;
}

/** Stars as five radio buttons: keyboard arrows choose, screen readers hear "4 stars". */
export function Stars({ value, onChange: change, legend }) {
  return html`<fieldset class="stars">
    <legend>${legend}</legend>
    <div class="stars-row">
      ${[1, 2, 3, 4, 5].map(
        (score) => html`<label class=${score <= value ? 'lit' : ''}>
          <input type="radio" name="score" value=${score} checked=${score === value} onChange=${() => change(score)} />
          <${Icon} name="star" size=${40} />
          <span class="sr-only">${tr(`${score} 星`, `${score} star${score > 1 ? 's' : ''}`)}</span>
        </label>`,
      )}
    </div>
  </fieldset>`;
}

export function StarsShown({ score }) {
  if (!score) return null;
  return html`<span class="stars-shown" role="img" aria-label=${tr(`${score} 星`, `${score} stars`)}>
    ${'★'.repeat(score)}${'☆'.repeat(5 - score)}</span>`;
}

/** Time left to a deadline, ticking each second; past it, marked overdue. */
export function Countdown({ until, label }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.round((new Date(until) - now) / 1000);
  if (left <= 0) return html`<span class="countdown overdue" role="timer">${tr('已超时', 'Overdue')}</span>`;
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, '0');
  const hours = Math.floor(minutes / 60);
  const text = hours >= 1 ? tr(`${hours} 小时 ${minutes % 60} 分`, `${hours} h ${minutes % 60} min`) : `${minutes}:${seconds}`;
  return html`<span class=${`countdown${left < 300 ? ' soon' : ''}`} role="timer" aria-label=${`${label} ${text}`}>
    <${Icon} name="clock" size=${18} /> ${label} ${text}</span>`;
}

export function Card({ children, tone, ...rest }) {
  return html`<article class=${`card${tone ? ` tone-${tone}` : ''}`} ...${rest}>${children}</article>`;
}

export const at = (value) => when(value);
