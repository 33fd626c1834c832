// Residents: order from the catalogue (with similar orders shown first), follow their requests,
// read the service code out, cancel, rate; and the wall of micro-wishes.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, idempotencyKey, post } from '../api.js';
import { bi, tr, urgencyWord, when } from '../i18n.js';
import { Icon } from '../icons.js';
import { useTownships, useVillages } from '../places.js';
import {
  Badge, Button, Card, Choices, Done, Empty, ErrorBox, Loading, Page, Select, Stars, StarsShown,
  StatusBadge, TextArea, TextInput, Timeline, useAction, useLoad,
} from '../ui.js';

const CANCELLABLE = new Set(['submitted', 'in_review', 'dispatched', 'escalated', 'accepted']);

/** `2026-11-30` and `09:00` in county time → an ISO instant with the county's offset. */
const countyInstant = (day, clock) => (day && clock ? `${day}T${clock}:00+08:00` : null);

function SimilarRequests({ category, township, village }) {
  const [found, setFound] = useState(null);
  useEffect(() => {
    setFound(null);
    if (!category || !township || !village.trim()) return undefined;
    const timer = setTimeout(() => {
      get('/api/v1/requests/similar', { category, township, village: village.trim(), days: 7 })
        .then((page) => setFound(page.items), () => setFound(null));
    }, 400);
    return () => clearTimeout(timer);
  }, [category, township, village]);
  if (!found?.length) return null;
  return html`<aside class="similar" aria-labelledby="similar-title" role="region">
    <h2 id="similar-title">${tr('附近已有类似的需求', 'Similar requests nearby')}</h2>
    <p>${tr('最近 7 天，同村同类的需求还在办理。如果是同一件事，不用重复提交。', 'These are open for the same service in this village in the last 7 days. If it is the same matter, there is no need to order again.')}</p>
    <ul>
      ${found.map(
        (item) => html`<li>
          <${StatusBadge} status=${item.status} />
          ${item.yours && item.id
            ? html`<a href=${`#/requests/${item.id}`}>${item.title}</a> <${Badge} tone="go">${tr('您提交的', 'yours')}<//>`
            : html`<span>${item.title}</span>`}
          <span class="meta"> · ${item.village} · ${bi(item.when)}</span>
        </li>`,
      )}
    </ul>
  </aside>`;
}

export function Order({ session }) {
  const catalog = useLoad(() => get('/api/v1/catalog'), []);
  const townships = useTownships();
  const [form, setForm] = useState({
    category: '', township: session.account.township || '', village: '', address: '', title: '', description: '',
    urgency: 'normal', day: '', start: '', end: '', contact_phone: '',
  });
  const villages = useVillages(form.township);
  const key = useRef(idempotencyKey());
  const set = (name) => (value) => setForm((old) => ({ ...old, [name]: value }));
  const submit = useAction(async () => {
    const body = {
      category: form.category, title: form.title.trim(), description: form.description.trim(),
      township: form.township, village: form.village.trim(), urgency: form.urgency,
    };
    if (form.address.trim()) body.address = form.address.trim();
    if (form.contact_phone.trim()) body.contact_phone = form.contact_phone.trim();
    if (form.day || form.start || form.end) {
      body.window = { start: countyInstant(form.day, form.start), end: countyInstant(form.day, form.end) };
    }
    const created = await post('/api/v1/requests', body, { 'Idempotency-Key': key.current });
    key.current = idempotencyKey();
    location.hash = `#/requests/${created.id}`;
    return created;
  });
  const chosen = catalog.data?.items.find((item) => item.code === form.category);
  const windowError = submit.fieldError('window') || submit.fieldError('window.start') || submit.fieldError('window.end');
  return html`<${Page} title=${tr('我要点单', 'Order a service')}>
    <${Loading} state=${catalog} />
    ${catalog.data && html`<form class="order" onSubmit=${(event) => {
      event.preventDefault();
      submit.run();
    }}>
      <${Choices} legend=${tr('需要什么服务？', 'What do you need?')} name="category" value=${form.category}
        onChange=${set('category')} columns=${2} cards error=${submit.fieldError('category')}
        options=${catalog.data.items.map((item) => [item.code, bi(item.name), bi(item.description), item.code])} />
      ${chosen?.needs_review && html`<p class="alert info">${tr('这类服务需要先审核，审核通过后再派单。', 'This service is reviewed before it is dispatched.')}</p>`}
      <div class="grid-2">
        <${Select} name="township" label=${tr('乡镇（街道）', 'Township')} value=${form.township} onChange=${set('township')}
          placeholder=${tr('请选择', 'Choose')} options=${townships.map((name) => [name, name])} error=${submit.fieldError('township')} />
        <${TextInput} name="village" label=${tr('村（社区）', 'Village or community')} value=${form.village} onInput=${set('village')}
          list="villages" autocomplete="off" hint=${villages.length ? tr('可从列表中选', 'Pick from the list or type') : null}
          error=${submit.fieldError('village')} />
        <datalist id="villages">${villages.map((name) => html`<option value=${name} />`)}</datalist>
      </div>
      <${SimilarRequests} category=${form.category} township=${form.township} village=${form.village} />
      <${TextInput} name="title" label=${tr('一句话说明', 'In a few words')} value=${form.title} onInput=${set('title')}
        maxlength="100" error=${submit.fieldError('title')} />
      <${TextArea} name="description" label=${tr('详细情况', 'Details')} value=${form.description} onInput=${set('description')}
        maxlength="2000" error=${submit.fieldError('description')} />
      <${TextInput} name="address" label=${tr('详细地址（可选）', 'Address (optional)')} value=${form.address} onInput=${set('address')}
        autocomplete="street-address" error=${submit.fieldError('address')} />
      <${Choices} legend=${tr('有多急？', 'How urgent?')} name="urgency" value=${form.urgency} onChange=${set('urgency')} columns=${4}
        options=${['low', 'normal', 'high', 'urgent'].map((code) => [code, urgencyWord(code)])} error=${submit.fieldError('urgency')} />
      <fieldset class="window">
        <legend>${tr('希望的服务时间（可选）', 'When would suit you (optional)')}</legend>
        <div class="grid-3">
          <${TextInput} name="day" label=${tr('日期', 'Day')} type="date" value=${form.day} onInput=${set('day')} />
          <${TextInput} name="start" label=${tr('从', 'From')} type="time" value=${form.start} onInput=${set('start')} />
          <${TextInput} name="end" label=${tr('到', 'To')} type="time" value=${form.end} onInput=${set('end')} />
        </div>
        ${windowError && html`<p class="field-error">${windowError}</p>`}
      </fieldset>
      <${TextInput} name="contact_phone" label=${tr('联系电话（可选）', 'Contact phone (optional)')} type="tel" inputmode="numeric"
        value=${form.contact_phone} onInput=${set('contact_phone')} error=${submit.fieldError('contact_phone')} />
      <${ErrorBox} error=${submit.error} />
      <div class="actions"><${Button} type="submit" busy=${submit.busy}>${tr('提交需求', 'Send my request')}<//></div>
    </form>`}
  <//>`;
}

const mine = (session) => (change) => Boolean(change.request_id);

export function MyRequests({ session }) {
  const state = useLoad(() => get('/api/v1/requests', { limit: 50 }), [], mine(session));
  return html`<${Page} title=${tr('我的需求', 'My requests')}
      actions=${html`<a class="button secondary" href="#/order">${tr('我要点单', 'Order')}</a>`}>
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('还没有需求。点“我要点单”提一个吧。', 'No requests yet.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map(
        (item) => html`<li><a class="card-link" href=${`#/requests/${item.id}`}>
          <${Card} data-request=${item.id}>
            <div class="card-row">
              <${Icon} name=${item.category} size=${32} />
              <div class="grow">
                <h2 class="card-title">${item.title}</h2>
                <p class="meta">${bi(item.category_name)} · ${item.village} · ${when(item.submitted_at)}</p>
              </div>
              <${StatusBadge} status=${item.status} />
            </div>
          <//></a></li>`,
      )}
    </ul>
  <//>`;
}

function speak(text) {
  if (!('speechSynthesis' in window)) return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = 'zh-CN';
  utterance.rate = 0.8;
  speechSynthesis.cancel();
  speechSynthesis.speak(utterance);
}

function ServiceCode({ code }) {
  const spaced = code.split('').join(' ');
  return html`<div class="service-code" role="region" aria-labelledby="code-title">
    <h2 id="code-title">${tr('服务码', 'Service code')}</h2>
    <p class="code-digits" aria-label=${spaced}>${code}</p>
    <p>${tr('志愿者到达和离开时，请把这串数字念给他听。', 'Read these digits out to the volunteer when they arrive and when they leave.')}</p>
    ${'speechSynthesis' in window && html`<${Button} kind="secondary" type="button" onClick=${() => speak(`服务码 ${spaced}`)}>
      <${Icon} name="speak" /> ${tr('读出来', 'Read it aloud')}<//>`}
  </div>`;
}

function RateForm({ request, onDone }) {
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState('');
  const action = useAction(async () => {
    const body = { request_id: request.id, score };
    if (comment.trim()) body.comment = comment.trim();
    await post('/api/v1/ratings', body);
    onDone();
  });
  return html`<${Card} tone="act">
    <h2>${tr('给这次服务打个分', 'Rate this service')}</h2>
    <form onSubmit=${(event) => {
      event.preventDefault();
      action.run();
    }}>
      <${Stars} legend=${tr('满意程度', 'How satisfied are you?')} value=${score} onChange=${setScore} />
      ${action.fieldError('score') && html`<p class="field-error">${tr('请选择星级。', 'Choose the stars.')}</p>`}
      <${TextArea} name="comment" label=${tr('想说的话（可选）', 'A comment (optional)')} value=${comment} onInput=${setComment}
        maxlength="500" error=${action.fieldError('comment')} />
      <${ErrorBox} error=${action.fieldError('score') ? null : action.error} />
      <div class="actions"><${Button} type="submit" busy=${action.busy} disabled=${!score}>${tr('提交评价', 'Send my rating')}<//></div>
    </form>
  <//>`;
}

function CancelForm({ request, onDone }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const action = useAction(async () => {
    await post(`/api/v1/requests/${request.id}/cancel`, reason.trim() ? { reason: reason.trim() } : {});
    onDone();
  });
  if (!open) {
    return html`<div class="actions"><${Button} kind="secondary" type="button" onClick=${() => setOpen(true)}>${tr('取消这个需求', 'Cancel this request')}<//></div>`;
  }
  return html`<form class="card" onSubmit=${(event) => {
    event.preventDefault();
    action.run();
  }}>
    <${TextInput} name="reason" label=${tr('取消原因（可选）', 'Why (optional)')} value=${reason} onInput=${setReason} maxlength="500" />
    <${ErrorBox} error=${action.error} />
    <div class="actions">
      <${Button} kind="danger" type="submit" busy=${action.busy}>${tr('确认取消', 'Cancel it')}<//>
      <${Button} kind="secondary" type="button" onClick=${() => setOpen(false)}>${tr('不取消了', 'Keep it')}<//>
    </div>
  </form>`;
}

export function RequestDetail({ id }) {
  const state = useLoad(() => get(`/api/v1/requests/${id}`), [id], (change) => change.request_id === id);
  const rating = useLoad(
    () => (state.data && ['rated', 'closed'].includes(state.data.status) ? get(`/api/v1/ratings/${id}`) : null),
    [id, state.data?.status],
  );
  const request = state.data;
  return html`<${Page} title=${request ? request.title : tr('需求', 'Request')}>
    <p><a href="#/requests">← ${tr('我的需求', 'My requests')}</a></p>
    <${Loading} state=${state} />
    ${request && html`
      <${Card}>
        <div class="card-row">
          <${Icon} name=${request.category} size=${40} />
          <div class="grow">
            <p class="meta">${request.code} · ${bi(request.category_name)} · ${urgencyWord(request.urgency)}</p>
            <p class="meta">${request.township} ${request.village}${request.address ? ` · ${request.address}` : ''}</p>
          </div>
          <${StatusBadge} status=${request.status} />
        </div>
        <p class="status-line" aria-live="polite">${tr('现在：', 'Now: ')}<strong>${bi(request.status_text)}</strong></p>
        ${request.rejection_reason && html`<p class="alert error">${tr('未通过的原因：', 'Why: ')}${request.rejection_reason}</p>`}
        ${request.window && html`<p class="meta">${tr('希望时间：', 'Preferred: ')}${when(request.window.start)} – ${when(request.window.end, { date: false })}</p>`}
      <//>
      ${request.service_code && html`<${ServiceCode} code=${request.service_code} />`}
      ${request.status === 'completed' && html`<${RateForm} request=${request} onDone=${state.reload} />`}
      ${rating.data?.score && html`<${Done}>${tr('您的评价：', 'Your rating: ')}<${StarsShown} score=${rating.data.score} />
        ${rating.data.comment ? ` “${rating.data.comment}”` : ''}<//>`}
      <h2>${tr('办理进度', 'Progress')}</h2>
      <${Timeline} steps=${request.timeline} bi=${bi} />
      ${CANCELLABLE.has(request.status) && html`<${CancelForm} request=${request} onDone=${state.reload} />`}
    `}
  <//>`;
}

export function Wishes() {
  const [state, setStateFilter] = useState('open');
  const wall = useLoad(() => get('/api/v1/wishes', { state: state || undefined, limit: 50 }), [state], (change) => Boolean(change.request_id));
  const filters = useMemo(
    () => [['open', tr('等待认领', 'Open')], ['claimed', tr('已认领', 'Claimed')], ['fulfilled', tr('已实现', 'Fulfilled')], ['', tr('全部', 'All')]],
    [],
  );
  return html`<${Page} title=${tr('微心愿', 'Micro-wishes')}>
    <p class="lead">${tr('社区里困难群众的小心愿，由志愿者认领实现。', 'Small wishes of people in need, fulfilled by volunteers.')}</p>
    <div class="filters" role="group" aria-label=${tr('筛选', 'Filter')}>
      ${filters.map(([value, text]) => html`<button class=${`chip${state === value ? ' on' : ''}`} aria-pressed=${state === value}
        onClick=${() => setStateFilter(value)}>${text}</button>`)}
    </div>
    <${Loading} state=${wall} />
    ${wall.data && !wall.data.items.length && html`<${Empty}>${tr('这里暂时没有心愿。', 'No wishes here right now.')}<//>`}
    <ul class="cards wall">
      ${(wall.data?.items || []).map(
        (wish) => html`<li><${Card}>
          <div class="card-row"><${Icon} name="heart" size=${32} />
            <div class="grow"><h2 class="card-title">${wish.title}</h2>
            <p class="meta">${wish.beneficiary.name} · ${wish.beneficiary.flags_text.map(bi).join('、')} · ${wish.township} ${wish.village}</p></div>
            <${Badge} tone=${wish.state === 'fulfilled' ? 'done' : wish.state === 'open' ? 'act' : 'go'}>${bi(wish.state_text)}<//>
          </div>
          <p>${wish.description}</p>
        <//></li>`,
      )}
    </ul>
  <//>`;
}
