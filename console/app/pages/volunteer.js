// Volunteers: offers with their deadline counting down, accept or decline with a reason; the tasks
// under way with check-in and check-out by the resident's code; the claim pool; hours and the
// certificate; pairing visits. Team leaders answer their teams' offers and name who serves.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { download, get, post } from '../api.js';
import { number, taskWord, tr, urgencyWord, when } from '../i18n.js';
import { Icon } from '../icons.js';
import {
  Badge, Button, Card, Countdown, Done, Empty, ErrorBox, Loading, Page, Select, StarsShown, TextInput,
  useAction, useLoad,
} from '../ui.js';

const aboutTasks = (change) =>
  Boolean(change.task_id) || change.type?.startsWith('task.') || ['request.rated', 'request.closed', 'request.cancelled'].includes(change.type);
const volunteerId = (session) => session.account.volunteer_id || session.account.subject;

function TaskFacts({ task }) {
  return html`<div class="card-row">
    <${Icon} name=${task.category} size=${32} />
    <div class="grow">
      <h3 class="card-title">${task.title}</h3>
      <p class="meta">${task.township} ${task.village}${task.address ? ` · ${task.address}` : ''} · ${urgencyWord(task.urgency)}</p>
      ${task.window && html`<p class="meta">${tr('时间：', 'When: ')}${when(task.window.start)} – ${when(task.window.end, { date: false })}</p>`}
      ${task.contact_phone_masked && html`<p class="meta">${tr('联系电话：', 'Phone: ')}${task.contact_phone_masked}</p>`}
    </div>
  </div>
  <p class="description">${task.description}</p>`;
}

function DeclineForm({ path, onDone, onCancel }) {
  const [reason, setReason] = useState('');
  const action = useAction(async () => {
    await post(path, { reason: reason.trim() });
    onDone();
  });
  return html`<form class="subform" onSubmit=${(event) => {
    event.preventDefault();
    action.run();
  }}>
    <${TextInput} name="reason" label=${tr('婉拒原因（必填）', 'Why you cannot (required)')} value=${reason} onInput=${setReason}
      maxlength="500" required error=${action.fieldError('reason')} />
    <${ErrorBox} error=${action.fieldError('reason') ? null : action.error} />
    <div class="actions">
      <${Button} kind="danger" type="submit" busy=${action.busy}>${tr('确认婉拒', 'Decline')}<//>
      <${Button} kind="secondary" type="button" onClick=${onCancel}>${tr('返回', 'Back')}<//>
    </div>
  </form>`;
}

function Offer({ task, onDone }) {
  const [declining, setDeclining] = useState(false);
  const accept = useAction(async () => {
    await post(`/api/v1/tasks/${task.id}/accept`);
    onDone();
  });
  return html`<${Card} tone="act" data-task=${task.id}>
    <div class="card-top"><${Badge} tone="act">${tr('新任务', 'New offer')}<//><${Countdown} until=${task.deadline} label=${tr('回复剩余', 'Answer within')} /></div>
    <${TaskFacts} task=${task} />
    <${ErrorBox} error=${accept.error} />
    ${declining
      ? html`<${DeclineForm} path=${`/api/v1/tasks/${task.id}/decline`} onDone=${onDone} onCancel=${() => setDeclining(false)} />`
      : html`<div class="actions">
          <${Button} busy=${accept.busy} onClick=${() => accept.run()}>${tr('接单', 'Accept')}<//>
          <${Button} kind="secondary" onClick=${() => setDeclining(true)}>${tr('婉拒', 'Decline')}<//>
        </div>`}
  <//>`;
}

function TeamOffer({ task, onDone }) {
  const [declining, setDeclining] = useState(false);
  const [member, setMember] = useState('');
  const members = useLoad(() => get(`/api/v1/teams/${task.team_id}/members`, { limit: 100 }), [task.team_id]);
  const accept = useAction(async () => {
    await post(`/api/v1/tasks/team/${task.id}/accept`, { volunteer_id: member });
    onDone();
  });
  return html`<${Card} tone="act" data-task=${task.id}>
    <div class="card-top"><${Badge} tone="act">${tr('服务队任务', 'Team offer')}<//><${Countdown} until=${task.deadline} label=${tr('回复剩余', 'Answer within')} /></div>
    <${TaskFacts} task=${task} />
    ${declining
      ? html`<${DeclineForm} path=${`/api/v1/tasks/team/${task.id}/decline`} onDone=${onDone} onCancel=${() => setDeclining(false)} />`
      : html`<form onSubmit=${(event) => {
          event.preventDefault();
          accept.run();
        }}>
          <${Select} name="member" label=${tr('派谁去？', 'Who serves?')} value=${member} onChange=${setMember}
            placeholder=${tr('请选择队员', 'Choose a member')} error=${accept.fieldError('volunteer_id')}
            options=${(members.data?.items || []).filter((m) => m.active).map((m) => [m.id, m.name])} />
          <${ErrorBox} error=${accept.fieldError('volunteer_id') ? null : accept.error} />
          <div class="actions">
            <${Button} type="submit" busy=${accept.busy} disabled=${!member}>${tr('代队接单', 'Accept for the team')}<//>
            <${Button} kind="secondary" type="button" onClick=${() => setDeclining(true)}>${tr('婉拒', 'Decline')}<//>
          </div>
        </form>`}
  <//>`;
}

function CodeStep({ task, onDone }) {
  const [code, setCode] = useState('');
  const checkingOut = task.status === 'in_service';
  const action = useAction(async () => {
    await post(`/api/v1/tasks/${task.id}/${checkingOut ? 'check-out' : 'check-in'}`, { code: code.trim() });
    setCode('');
    onDone();
  });
  const locked = task.code_locked_until && new Date(task.code_locked_until) > new Date();
  return html`<${Card} tone="go" data-task=${task.id}>
    <div class="card-top"><${Badge} tone="go">${taskWord(task.status)}<//>
      ${checkingOut ? html`<span class="meta">${tr('开始于 ', 'Started ')}${when(task.checked_in_at)}</span>` : null}</div>
    <${TaskFacts} task=${task} />
    <form onSubmit=${(event) => {
      event.preventDefault();
      action.run();
    }}>
      <${TextInput} name="code" label=${checkingOut ? tr('离开时请居民念服务码', 'Leaving: the code the resident reads out') : tr('到达后请居民念服务码', 'On arrival: the code the resident reads out')}
        inputmode="numeric" autocomplete="off" value=${code} onInput=${setCode} error=${action.fieldError('code')} />
      ${locked && html`<p class="alert error">${tr('错误次数太多，已锁定到 ', 'Too many wrong codes; locked until ')}${when(task.code_locked_until)}</p>`}
      <${ErrorBox} error=${action.fieldError('code') ? null : action.error} />
      <div class="actions"><${Button} type="submit" busy=${action.busy} disabled=${!code.trim()}>
        ${checkingOut ? tr('签退，完成服务', 'Check out: done') : tr('签到，开始服务', 'Check in: start')}<//></div>
    </form>
  <//>`;
}

function DoneTask({ task }) {
  return html`<${Card} data-task=${task.id}>
    <div class="card-row">
      <${Icon} name=${task.category} size=${28} />
      <div class="grow"><h3 class="card-title">${task.title}</h3>
        <p class="meta">${when(task.completed_at)} · ${tr(`${task.hours ?? 0} 小时`, `${task.hours ?? 0} h`)}</p></div>
      ${task.rating_score
        ? html`<span class="badge tone-done" data-closed="true">${tr('已办结', 'Closed')} <${StarsShown} score=${task.rating_score} /></span>`
        : html`<${Badge} tone="go">${tr('已完成，待评价', 'Done, awaiting rating')}<//>`}
    </div>
  <//>`;
}

export function Offers({ session }) {
  const load = async () => {
    const [offered, accepted, serving, completed, team] = await Promise.all([
      get('/api/v1/tasks', { status: 'offered', limit: 50 }),
      get('/api/v1/tasks', { status: 'accepted', limit: 50 }),
      get('/api/v1/tasks', { status: 'in_service', limit: 50 }),
      get('/api/v1/tasks', { status: 'completed', limit: 10 }),
      get('/api/v1/tasks/team', { status: 'offered', limit: 50 }).catch(() => ({ items: [] })),
    ]);
    return { offered: offered.items, active: [...serving.items, ...accepted.items], completed: completed.items, team: team.items };
  };
  const state = useLoad(load, [], aboutTasks);
  const data = state.data;
  return html`<${Page} title=${tr('我的任务', 'My tasks')}>
    <p class="lead">${tr('你好，', 'Hello, ')}${session.account.display_name}</p>
    <${Loading} state=${state} />
    ${data && html`
      <h2>${tr('待确认的任务', 'Offers waiting for you')}</h2>
      ${!data.offered.length && html`<${Empty}>${tr('暂时没有新任务。也可以去“抢单”看看。', 'No offers right now. Try the claim pool.')}<//>`}
      <ul class="cards">${data.offered.map((task) => html`<li><${Offer} task=${task} onDone=${state.reload} /></li>`)}</ul>
      ${data.team.length > 0 && html`<h2>${tr('服务队的任务（队长）', 'Your team’s offers (leader)')}</h2>
        <ul class="cards">${data.team.map((task) => html`<li><${TeamOffer} task=${task} onDone=${state.reload} /></li>`)}</ul>`}
      <h2>${tr('进行中', 'Under way')}</h2>
      ${!data.active.length && html`<${Empty}>${tr('没有进行中的任务。', 'Nothing under way.')}<//>`}
      <ul class="cards">${data.active.map((task) => html`<li><${CodeStep} task=${task} onDone=${state.reload} /></li>`)}</ul>
      ${data.completed.length > 0 && html`<h2>${tr('最近完成', 'Recently done')}</h2>
        <ul class="cards">${data.completed.map((task) => html`<li><${DoneTask} task=${task} /></li>`)}</ul>`}
    `}
  <//>`;
}

export function Pool() {
  const state = useLoad(() => get('/api/v1/pool', { limit: 50 }), [], (change) => change.type === 'request.pooled' || aboutTasks(change));
  const [claimed, setClaimed] = useState(null);
  const claim = useAction(async (entry) => {
    await post(`/api/v1/pool/${entry.request_id}/claim`);
    setClaimed(entry.title);
    state.reload();
  });
  return html`<${Page} title=${tr('抢单', 'Claim a request')}>
    <p class="lead">${tr('这些需求还没有人接。认领后就是你的任务。', 'Nobody has taken these yet. Claim one and it is yours.')}</p>
    ${claimed && html`<${Done}>${tr('已认领：', 'Claimed: ')}${claimed} · <a href="#/tasks">${tr('去我的任务', 'Go to my tasks')}</a><//>`}
    <${ErrorBox} error=${claim.error} />
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('抢单池是空的。', 'The pool is empty.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map(
        (entry) => html`<li><${Card} data-request=${entry.request_id}>
          <div class="card-row"><${Icon} name=${entry.category} size=${32} />
            <div class="grow"><h2 class="card-title">${entry.title}</h2>
              <p class="meta">${entry.township} ${entry.village} · ${urgencyWord(entry.urgency)} · ${when(entry.pooled_at)}</p></div></div>
          <div class="actions"><${Button} busy=${claim.busy} onClick=${() => claim.run(entry)}>${tr('认领', 'Claim')}<//></div>
        <//></li>`,
      )}
    </ul>
  <//>`;
}

export function Hours({ session }) {
  const id = volunteerId(session);
  const state = useLoad(() => get(`/api/v1/volunteers/${id}/hours`), [id], (change) => change.type === 'task.completed');
  const fetchPdf = useAction(() => download(`/api/v1/volunteers/${id}/certificate.pdf`, `volunteer-hours-${id}.pdf`));
  const ledger = state.data;
  return html`<${Page} title=${tr('服务时长', 'My hours')}>
    <${Loading} state=${state} />
    ${ledger && html`
      <div class="figures">
        <div class="figure"><span class="figure-value">${number(ledger.total_hours)}</span><span class="figure-label">${tr('累计小时', 'hours in all')}</span></div>
        <div class="figure"><span class="figure-value">${number(ledger.tasks)}</span><span class="figure-label">${tr('服务次数', 'services')}</span></div>
      </div>
      <div class="actions"><${Button} kind="secondary" busy=${fetchPdf.busy} onClick=${() => fetchPdf.run()}>${tr('下载时长证明（PDF）', 'Download my certificate (PDF)')}<//></div>
      <${ErrorBox} error=${fetchPdf.error} />
      ${!ledger.entries.length && html`<${Empty}>${tr('还没有服务记录。', 'No services recorded yet.')}<//>`}
      ${ledger.entries.length > 0 && html`<div class="table-wrap" tabindex="0"><table>
        <caption class="sr-only">${tr('服务记录', 'Services')}</caption>
        <thead><tr><th scope="col">${tr('完成时间', 'Done')}</th><th scope="col">${tr('乡镇', 'Township')}</th><th scope="col">${tr('小时', 'Hours')}</th></tr></thead>
        <tbody>${ledger.entries.map((entry) => html`<tr><td>${when(entry.completed_at)}</td><td>${entry.township || '—'}</td>
          <td>${entry.hours}${entry.corrections.length ? html` <${Badge} tone="wait">${tr('已更正', 'corrected')}<//>` : ''}</td></tr>`)}</tbody>
      </table></div>`}
    `}
  <//>`;
}

export function Visits({ session }) {
  const id = volunteerId(session);
  const state = useLoad(() => get('/api/v1/pairings', { active: true, limit: 50 }), [id], aboutTasks);
  return html`<${Page} title=${tr('结对走访', 'Pairing visits')}>
    <p class="lead">${tr('与您结对的老人和困难群众，按约定定期走访；走访到期时会作为任务派给您。', 'People you are paired with; each visit becomes a task for you when it falls due.')}</p>
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('目前没有结对。', 'No pairings.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map((pairing) => {
        const due = new Date(pairing.next_due_at) <= new Date();
        return html`<li><${Card} tone=${due ? 'act' : undefined}>
          <div class="card-row"><${Icon} name="visit" size=${32} />
            <div class="grow"><h2 class="card-title">${pairing.township} ${pairing.village}</h2>
              <p class="meta">${tr(`每 ${pairing.every_days} 天一次`, `every ${pairing.every_days} days`)} · ${tr(`已走访 ${pairing.visits_made} 次`, `${pairing.visits_made} visits made`)}</p>
              ${pairing.note && html`<p>${pairing.note}</p>`}</div>
            ${due ? html`<${Badge} tone="act">${tr('该走访了', 'Visit due')}<//>` : html`<span class="meta">${tr('下次：', 'Next: ')}${when(pairing.next_due_at)}</span>`}
          </div>
        <//></li>`;
      })}
    </ul>
  <//>`;
}
