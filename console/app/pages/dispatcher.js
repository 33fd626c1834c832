// Dispatchers: the queue of their township (or the county) — requests to review and requests to
// assign by hand — the offers still out with the overdue ones marked, and one request's record:
// every offer, the candidates weighed with each part of their scores, and assigning by hand.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post } from '../api.js';
import { bi, percent, reasonWord, tr, urgencyWord, when } from '../i18n.js';
import { Icon } from '../icons.js';
import { useTownships } from '../places.js';
import {
  Badge, Button, Card, Choices, Done, Empty, ErrorBox, Loading, Page, Select, StatusBadge, TextInput,
  Timeline, useAction, useLoad,
} from '../ui.js';

const anything = () => true;
const PARTS = [
  ['proximity', '就近', 'Near'],
  ['distance', '距离', 'Distance'],
  ['reputation', '口碑', 'Reputation'],
  ['load', '空闲', 'Free'],
  ['fairness', '轮换', 'Turn'],
  ['acceptance', '接单率', 'Accepts'],
];
const LEVEL = {
  pairing: ['结对', 'pairing'], station: ['站点', 'station'], township: ['乡镇', 'township'], county: ['县级', 'county'],
  manual: ['人工', 'by hand'], pool: ['抢单', 'pool'],
};
const ATTEMPT = {
  offered: ['等待回复', 'waiting', 'wait'], accepted: ['已接单', 'accepted', 'go'], declined: ['婉拒', 'declined', 'stop'],
  expired: ['超时', 'lapsed', 'stop'], completed: ['已完成', 'done', 'done'], withdrawn: ['撤回', 'withdrawn', 'stop'],
};
const levelWord = (level) => tr(...(LEVEL[level] || [level, level]));

function TownshipFilter({ session, value, onChange }) {
  const townships = useTownships();
  if (session.account.township) return html`<p class="meta">${tr('本乡镇：', 'Township: ')}${session.account.township}</p>`;
  return html`<${Select} name="township" label=${tr('范围', 'Covering')} value=${value} onChange=${onChange}
    placeholder=${tr('全县', 'The whole county')} options=${townships.map((name) => [name, name])} />`;
}

export function Board({ session }) {
  const [township, setTownship] = useState('');
  const scope = session.account.township || township || undefined;
  const queue = useLoad(() => get('/api/v1/dispatch/queue', { township: scope, limit: 100 }), [scope], anything);
  const out = useLoad(() => get('/api/v1/requests', { status: 'dispatched', township: scope, limit: 50 }), [scope], anything);
  const now = new Date();
  const offers = out.data?.items || [];
  const overdue = offers.filter((item) => new Date(item.deadlines.respond_by) < now);
  return html`<${Page} title=${tr('调度台', 'Dispatch board')}>
    <${TownshipFilter} session=${session} value=${township} onChange=${setTownship} />
    <div class="figures">
      <div class="figure"><span class="figure-value" data-figure="queue">${queue.data?.items.length ?? '…'}</span><span class="figure-label">${tr('待处理', 'waiting for you')}</span></div>
      <div class="figure"><span class="figure-value">${offers.length}</span><span class="figure-label">${tr('派出待接', 'offers out')}</span></div>
      <div class=${`figure${overdue.length ? ' alarm' : ''}`}><span class="figure-value">${overdue.length}</span><span class="figure-label">${tr('逾期未接', 'overdue')}</span></div>
    </div>
    <h2>${tr('等待人工处理', 'Waiting for a dispatcher')}</h2>
    <${Loading} state=${queue} />
    ${queue.data && !queue.data.items.length && html`<${Empty}>${tr('队列是空的。', 'The queue is empty.')}<//>`}
    <ul class="cards">
      ${(queue.data?.items || []).map(
        (job) => html`<li><a class="card-link" href=${`#/board/${job.request_id}`}><${Card} tone=${job.waiting_for === 'review' ? 'wait' : 'act'} data-request=${job.request_id}>
          <div class="card-row"><${Icon} name=${job.category} size=${32} />
            <div class="grow"><h3 class="card-title">${job.title}</h3>
              <p class="meta">${job.township} ${job.village} · ${urgencyWord(job.urgency)} · ${when(job.submitted_at)}</p>
              ${job.escalation_reason && html`<p class="meta">${tr('原因：', 'Why: ')}${reasonWord(job.escalation_reason)}</p>`}</div>
            <${Badge} tone=${job.waiting_for === 'review' ? 'wait' : 'act'}>${job.waiting_for === 'review' ? tr('待审核', 'Review') : tr('待指派', 'Assign')}<//>
          </div>
          <p class="meta">${tr(`已派 ${job.attempts} 次`, `${job.attempts} offers so far`)}${job.declined_by.length ? tr(`，${job.declined_by.length} 人婉拒`, `, ${job.declined_by.length} declined`) : ''}${job.expired_by.length ? tr(`，${job.expired_by.length} 人超时`, `, ${job.expired_by.length} lapsed`) : ''}${job.pooled ? tr('，已进抢单池', ', in the claim pool') : ''}</p>
        <//></a></li>`,
      )}
    </ul>
    <h2>${tr('已派出，等待接单', 'Offered, waiting for an answer')}</h2>
    <${Loading} state=${out} />
    ${out.data && !offers.length && html`<${Empty}>${tr('没有等待回复的派单。', 'No offers waiting.')}<//>`}
    <ul class="cards">
      ${offers.map((item) => {
        const late = new Date(item.deadlines.respond_by) < now;
        return html`<li><a class="card-link" href=${`#/board/${item.id}`}><${Card} tone=${late ? 'stop' : undefined} data-request=${item.id}>
          <div class="card-row"><${Icon} name=${item.category} size=${28} />
            <div class="grow"><h3 class="card-title">${item.title}</h3>
              <p class="meta">${item.township} ${item.village} · ${tr('应在 ', 'answer by ')}${when(item.deadlines.respond_by)}${tr(' 前接单', '')}</p></div>
            ${late ? html`<${Badge} tone="stop">${tr('逾期', 'Overdue')}<//>` : html`<${StatusBadge} status=${item.status} />`}
          </div>
        <//></a></li>`;
      })}
    </ul>
  <//>`;
}

function ScoreBars({ parts }) {
  return html`<dl class="score-parts">
    ${PARTS.map(([name, zh, en]) => html`<div class="part">
      <dt>${tr(zh, en)}</dt>
      <dd><span class="bar" style=${`--w:${Math.round((parts[name] ?? 0) * 100)}%`} aria-hidden="true"></span>${percent(parts[name])}</dd>
    </div>`)}
  </dl>`;
}

/** Candidates with their names: dispatch keeps scores, the volunteers service keeps who people are. */
async function namedCandidates(requestId) {
  const found = await get(`/api/v1/dispatch/${requestId}/candidates`, { limit: 20 });
  const names = await Promise.all(
    found.items.map((item) =>
      get(item.kind === 'team' ? `/api/v1/teams/${item.candidate_id}` : `/api/v1/volunteers/${item.candidate_id}`)
        .then((holder) => holder.name)
        .catch(() => null),
    ),
  );
  return { items: found.items.map((item, index) => ({ ...item, name: names[index] })) };
}

function Candidates({ job, onAssigned }) {
  const state = useLoad(() => namedCandidates(job.request_id), [job.request_id, job.attempts.length]);
  const [manual, setManual] = useState('');
  const assign = useAction(async (item) => {
    const body = item.team_id ? { team_id: item.team_id } : { volunteer_id: item.volunteer_id };
    await post(`/api/v1/dispatch/${job.request_id}/assign`, body);
    onAssigned();
  });
  return html`<section aria-labelledby="candidates-title">
    <h2 id="candidates-title">${tr('人工指派：候选人', 'Assign by hand: candidates')}</h2>
    <p class="meta">${tr('按综合得分排序（站点 → 乡镇 → 县级），每一项是 0–100% 的分项得分。', 'Best first at each level (station → township → county); each part scores 0–100%.')}</p>
    <${ErrorBox} error=${assign.error} />
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('现在没有符合条件的人选；可以输入志愿者编号指派。', 'Nobody fits right now; you can name a volunteer by id.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map(
        (item) => html`<li><${Card} data-candidate=${item.candidate_id}>
          <div class="card-top"><strong>${item.kind === 'team' ? tr('服务队 ', 'Team ') : tr('志愿者 ', 'Volunteer ')}${item.name || ''}
            <span class="meta id"> ${item.candidate_id}</span></strong>
            <span class="score">${tr('综合 ', 'Total ')}${item.total.toFixed(3)}</span></div>
          <p class="meta">${levelWord(item.level)} · ${tr(`在手 ${item.load}/${item.capacity}`, `load ${item.load}/${item.capacity}`)}
            ${item.distance_km !== null ? ` · ${item.distance_km} km` : ''} · ${tr('口碑 ', 'rated ')}${item.reputation_mean.toFixed(2)}</p>
          <${ScoreBars} parts=${item.parts} />
          ${item.declined && html`<${Badge} tone="stop">${tr('已婉拒过', 'Declined before')}<//>`}
          ${item.lapsed && html`<${Badge} tone="stop">${tr('曾超时未回', 'Let it lapse')}<//>`}
          <div class="actions"><${Button} busy=${assign.busy} disabled=${item.declined || item.lapsed} onClick=${() => assign.run(item)}>
            ${tr('指派', 'Assign')}<span class="sr-only"> ${item.name || item.candidate_id}</span><//></div>
        <//></li>`,
      )}
    </ul>
    <form class="inline-form" onSubmit=${(event) => {
      event.preventDefault();
      assign.run({ volunteer_id: manual.trim() });
    }}>
      <${TextInput} name="volunteer_id" label=${tr('按志愿者编号指派', 'Assign to a volunteer id')} value=${manual} onInput=${setManual} error=${assign.fieldError('volunteer_id')} />
      <${Button} kind="secondary" type="submit" busy=${assign.busy} disabled=${!manual.trim()}>${tr('指派', 'Assign')}<//>
    </form>
  </section>`;
}

function Review({ job, onDone }) {
  const [decision, setDecision] = useState('approve');
  const [reason, setReason] = useState('');
  const action = useAction(async () => {
    const body = { decision };
    if (reason.trim()) body.reason = reason.trim();
    await post(`/api/v1/dispatch/${job.request_id}/review`, body);
    onDone();
  });
  return html`<${Card} tone="wait">
    <h2>${tr('审核', 'Review')}</h2>
    <form onSubmit=${(event) => {
      event.preventDefault();
      action.run();
    }}>
      <${Choices} legend=${tr('审核结果', 'Decision')} name="decision" value=${decision} onChange=${setDecision} columns=${2}
        options=${[['approve', tr('通过，开始派单', 'Approve and dispatch')], ['reject', tr('不通过', 'Reject')]]} />
      <${TextInput} name="reason" label=${decision === 'reject' ? tr('不通过的原因（居民会看到）', 'Why (the resident reads it)') : tr('备注（可选）', 'Note (optional)')}
        value=${reason} onInput=${setReason} maxlength="500" error=${action.fieldError('reason')} />
      <${ErrorBox} error=${action.fieldError('reason') ? null : action.error} />
      <div class="actions"><${Button} type="submit" busy=${action.busy} kind=${decision === 'reject' ? 'danger' : 'primary'}>${tr('提交审核', 'Record the decision')}<//></div>
    </form>
  <//>`;
}

function Attempts({ job }) {
  if (!job.attempts.length) return html`<${Empty}>${tr('还没有派出过。', 'No offers yet.')}<//>`;
  const now = new Date();
  return html`<ol class="attempts">
    ${job.attempts.map((attempt) => {
      const [zh, en, tone] = ATTEMPT[attempt.status] || [attempt.status, attempt.status, 'wait'];
      const late = attempt.status === 'offered' && attempt.deadline && new Date(attempt.deadline) < now;
      return html`<li><${Card} tone=${late ? 'stop' : undefined}>
        <div class="card-top"><strong>#${attempt.attempt} ${levelWord(attempt.level)} → ${attempt.volunteer_id || attempt.team_id}</strong>
          ${late ? html`<${Badge} tone="stop">${tr('逾期未回', 'Overdue')}<//>` : html`<${Badge} tone=${tone}>${tr(zh, en)}<//>`}</div>
        <p class="meta">${when(attempt.offered_at)}${attempt.deadline ? tr(` · 期限 ${when(attempt.deadline)}`, ` · due ${when(attempt.deadline)}`) : ''}${attempt.by ? ` · ${tr('由', 'by')} ${attempt.by}` : ''}${attempt.reason ? ` · ${reasonWord(attempt.reason)}` : ''}</p>
        ${attempt.considered.length > 0 && html`<details><summary>${tr(`比较了 ${attempt.considered.length} 位候选人`, `${attempt.considered.length} candidates weighed`)}</summary>
          ${attempt.considered.map((item) => html`<div class="considered"><p><strong>${item.candidate_id}</strong> · ${tr('综合 ', 'total ')}${item.total.toFixed(3)}</p><${ScoreBars} parts=${item.parts} /></div>`)}
        </details>`}
      <//></li>`;
    })}
  </ol>`;
}

export function JobDetail({ id }) {
  const job = useLoad(() => get(`/api/v1/dispatch/${id}`), [id], (change) => change.request_id === id);
  const request = useLoad(() => get(`/api/v1/requests/${id}`), [id], (change) => change.request_id === id);
  const [assigned, setAssigned] = useState(false);
  const data = job.data;
  const reload = () => {
    setAssigned(true);
    job.reload();
    request.reload();
  };
  return html`<${Page} title=${data ? data.title : tr('派单记录', 'Dispatch record')}>
    <p><a href="#/board">← ${tr('调度台', 'Dispatch board')}</a></p>
    <${Loading} state=${job} />
    ${assigned && html`<${Done}>${tr('已处理。', 'Done.')}<//>`}
    ${data && html`
      <${Card}>
        <div class="card-row"><${Icon} name=${data.category} size=${40} />
          <div class="grow"><p class="meta">${data.township} ${data.village} · ${urgencyWord(data.urgency)} · ${when(data.submitted_at)}</p>
            ${request.data && html`<p>${request.data.description}</p><p class="meta">${request.data.code} · ${tr('联系电话 ', 'phone ')}${request.data.contact_phone || '—'}</p>`}</div>
          ${request.data && html`<${StatusBadge} status=${request.data.status} />`}</div>
        ${data.escalation_reason && html`<p class="alert info">${tr('转人工原因：', 'Escalated because: ')}${reasonWord(data.escalation_reason)}</p>`}
      <//>
      ${data.status === 'in_review' && html`<${Review} job=${data} onDone=${reload} />`}
      ${['escalated', 'pooled'].includes(data.status) && !data.attempts.some((a) => a.status === 'offered') && html`<${Candidates} job=${data} onAssigned=${reload} />`}
      <h2>${tr('派单经过', 'Offers made')}</h2>
      <${Attempts} job=${data} />
      ${request.data && html`<h2>${tr('办理进度', 'Progress')}</h2><${Timeline} steps=${request.data.timeline} bi=${bi} />`}
    `}
  <//>`;
}
