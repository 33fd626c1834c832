// Centre staff: the three rates per township ranked, the county's figures in its own terms, the
// rates over the last days as a chart (with its table), follow-ups to call back, the audit trail.
import { useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { ApiError, get, post } from '../api.js';
import { number, percent, tr, when } from '../i18n.js';
import {
  Badge, Button, Card, Choices, Empty, ErrorBox, Loading, Page, StarsShown, TextArea, useAction, useLoad,
} from '../ui.js';

const DAY = 86_400_000;
const COUNTY_OFFSET = 8 * 3_600_000;
/** Midnight of the county day `back` days ago, as an instant. */
const countyMidnight = (back = 0) => {
  const local = Date.now() + COUNTY_OFFSET;
  return new Date(local - (local % DAY) - COUNTY_OFFSET - back * DAY);
};
const RATES = [
  ['response', '响应率', 'Response', '按时接单 / 派单', 'accepted in time / offered'],
  ['resolution', '办结率', 'Resolution', '完成 / 提交', 'completed / submitted'],
  ['satisfaction', '满意率', 'Satisfaction', '4–5 星 / 评价', '4–5 stars / ratings'],
];
const PERIODS = [
  ['day', '今天', 'Today', () => countyMidnight(0)],
  ['week', '近 7 天', 'Last 7 days', () => countyMidnight(6)],
  ['month', '近 30 天', 'Last 30 days', () => countyMidnight(29)],
  ['all', '全部', 'All time', () => null],
];
const closingChange = (change) => ['task.completed', 'request.rated', 'task.accepted', 'request.submitted', 'task.offered'].includes(change.type);

function mean(rates) {
  const known = RATES.map(([name]) => rates[name]).filter((value) => value !== null && value !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

function RateChart({ days }) {
  const width = 320;
  const height = 160;
  const pad = 28;
  const x = (index) => pad + (index * (width - pad * 2)) / Math.max(1, days.length - 1);
  const y = (rate) => height - pad - rate * (height - pad * 2);
  const colours = { response: 'var(--c-response)', resolution: 'var(--c-resolution)', satisfaction: 'var(--c-satisfaction)' };
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-caption">
      ${[0, 0.5, 1].map((tick) => html`<g><line x1=${pad} x2=${width - pad} y1=${y(tick)} y2=${y(tick)} class="grid" />
        <text x="2" y=${y(tick) + 4} class="axis">${tick * 100}%</text></g>`)}
      ${days.map((day, index) => html`<text x=${x(index)} y=${height - 8} class="axis" text-anchor="middle">${day.label}</text>`)}
      ${RATES.map(([name]) => {
        const points = days.map((day, index) => (day.rates[name] === null ? null : `${x(index)},${y(day.rates[name])}`)).filter(Boolean);
        return html`<g><polyline points=${points.join(' ')} fill="none" stroke=${colours[name]} stroke-width="2.5" />
          ${points.map((point) => html`<circle cx=${point.split(',')[0]} cy=${point.split(',')[1]} r="3" fill=${colours[name]} />`)}</g>`;
      })}
    </svg>
    <figcaption id="chart-caption">
      ${tr('近 7 天全县三率（按天）：', 'County rates over the last 7 days, by day: ')}
      ${RATES.map(([name, zh, en]) => html`<span class=${`key key-${name}`}>${tr(zh, en)}</span> `)}
    </figcaption>
    <details><summary>${tr('数据表', 'The figures as a table')}</summary>
      <table><thead><tr><th scope="col">${tr('日期', 'Day')}</th>${RATES.map(([, zh, en]) => html`<th scope="col">${tr(zh, en)}</th>`)}</tr></thead>
        <tbody>${days.map((day) => html`<tr><th scope="row">${day.label}</th>${RATES.map(([name]) => html`<td>${percent(day.rates[name])}</td>`)}</tr>`)}</tbody></table>
    </details>
  </figure>`;
}

export function Rates({ session }) {
  const [period, setPeriod] = useState('all');
  const [rankBy, setRankBy] = useState('mean');
  const from = PERIODS.find(([code]) => code === period)[3]();
  const report = useLoad(() => get('/api/v1/stats/rollout', { from: from?.toISOString() }), [period], closingChange);
  // One report per county day: each point of the chart is that day's own rates.
  const trend = useLoad(
    () =>
      Promise.all(
        [6, 5, 4, 3, 2, 1, 0].map((back) => {
          const start = countyMidnight(back);
          const end = new Date(start.getTime() + DAY);
          return get('/api/v1/stats/rollout', { from: start.toISOString(), to: end.toISOString() }).then((day) => ({
            label: when(start, { time: false }),
            rates: day.total.rates,
          }));
        }),
      ),
    [],
    closingChange,
  );
  const ranked = useMemo(() => {
    const rows = (report.data?.townships || []).map((row) => ({ ...row, mean: mean(row.rates) }));
    const key = (row) => (rankBy === 'mean' ? row.mean : row.rates[rankBy]);
    return rows.sort((a, b) => (key(b) ?? -1) - (key(a) ?? -1) || a.township.localeCompare(b.township, 'zh-CN'));
  }, [report.data, rankBy]);
  const total = report.data?.total;
  return html`<${Page} title=${tr('三率与全县数据', 'Rates and county figures')}>
    ${session.account.township && html`<p class="meta">${tr('本乡镇：', 'Township: ')}${session.account.township}</p>`}
    <${Choices} legend=${tr('时间范围', 'Period')} name="period" value=${period} onChange=${setPeriod} columns=${4}
      options=${PERIODS.map(([code, zh, en]) => [code, tr(zh, en)])} />
    <${Loading} state=${report} />
    ${total && html`
      <h2>${tr('全县三率', 'County rates')}</h2>
      <div class="figures">
        ${RATES.map(([name, zh, en, howZh, howEn]) => html`<div class="figure" data-rate=${name}>
          <span class="figure-value">${percent(total.rates[name])}</span>
          <span class="figure-label">${tr(zh, en)}<small>${tr(howZh, howEn)}</small></span></div>`)}
      </div>
      <p class="meta" data-counts="total" data-completed=${total.counts.completed} data-ratings=${total.counts.ratings}>${tr(`提交 ${total.counts.submitted} · 完成 ${total.counts.completed} · 派单 ${total.counts.offers}（按时接 ${total.counts.offers_accepted_in_time}）· 评价 ${total.counts.ratings}`,
        `${total.counts.submitted} submitted · ${total.counts.completed} completed · ${total.counts.offers} offers (${total.counts.offers_accepted_in_time} accepted in time) · ${total.counts.ratings} ratings`)}</p>
      <h2>${tr('全县实践数据', 'What the county did')}</h2>
      <div class="figures small">
        <div class="figure"><span class="figure-value">${number(total.activities)}</span><span class="figure-label">${tr('开展活动（场次）', 'activities')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.volunteer_participations)}</span><span class="figure-label">${tr('志愿者参与（人次）', 'volunteer participations')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.people_served)}</span><span class="figure-label">${tr('服务群众（人次）', 'people served')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.volunteer_hours)}</span><span class="figure-label">${tr('志愿服务时长（小时）', 'volunteer hours')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.lectures)}</span><span class="figure-label">${tr('政策宣讲（场）', 'lectures')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.lecture_audience)}</span><span class="figure-label">${tr('宣讲受众（人次）', 'lecture audience')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.patrol_reports.resolved_on_site ?? 0)}</span><span class="figure-label">${tr('小巷管家现场解决', 'patrols: resolved on site')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.patrol_reports.reported_to_community ?? 0)}</span><span class="figure-label">${tr('上报社区', 'reported to the community')}</span></div>
        <div class="figure"><span class="figure-value">${number(total.patrol_reports.joint_consultation ?? 0)}</span><span class="figure-label">${tr('联合会商', 'joint consultation')}</span></div>
      </div>
      <h2>${tr('乡镇排名', 'Townships ranked')}</h2>
      <div class="filters" role="group" aria-label=${tr('排名依据', 'Rank by')}>
        ${[['mean', '综合', 'Overall'], ...RATES].map(([code, zh, en]) => html`<button class=${`chip${rankBy === code ? ' on' : ''}`}
          aria-pressed=${rankBy === code} onClick=${() => setRankBy(code)}>${tr(zh, en)}</button>`)}
      </div>
      <div class="table-wrap" tabindex="0"><table class="ranking">
        <caption class="sr-only">${tr('各乡镇三率排名', 'The townships ranked by their rates')}</caption>
        <thead><tr><th scope="col">${tr('名次', 'Rank')}</th><th scope="col">${tr('乡镇', 'Township')}</th>
          ${RATES.map(([, zh, en]) => html`<th scope="col">${tr(zh, en)}</th>`)}<th scope="col">${tr('提交/完成', 'Sub./done')}</th></tr></thead>
        <tbody>${ranked.map((row, index) => html`<tr data-township=${row.township}>
          <td>${index + 1}</td><th scope="row">${row.township}</th>
          ${RATES.map(([name]) => html`<td><span class="bar" style=${`--w:${Math.round((row.rates[name] ?? 0) * 100)}%`} data-none=${row.rates[name] === null ? '' : undefined} aria-hidden="true"></span>${percent(row.rates[name])}</td>`)}
          <td>${row.counts.submitted}/${row.counts.completed}</td></tr>`)}</tbody>
      </table></div>
    `}
    <h2>${tr('走势', 'Over time')}</h2>
    <${Loading} state=${trend} />
    ${trend.data && html`<${RateChart} days=${trend.data} />`}
  <//>`;
}

const OUTCOMES = [
  ['satisfied', '居民满意', 'Satisfied'],
  ['resolved', '问题已解决', 'Resolved'],
  ['unresolved', '未解决', 'Unresolved'],
  ['unreachable', '联系不上', 'Unreachable'],
];

function Followup({ item, onDone }) {
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const action = useAction(async () => {
    const body = { outcome };
    if (note.trim()) body.note = note.trim();
    await post(`/api/v1/followups/${item.id}/resolve`, body);
    onDone();
  });
  return html`<${Card} tone=${item.reasons.includes('low_score') ? 'stop' : 'wait'}>
    <div class="card-top"><strong>${item.township} · ${item.category}</strong>
      ${item.reasons.map((reason) => html`<${Badge} tone=${reason === 'low_score' ? 'stop' : 'wait'}>${reason === 'low_score' ? tr('低分', 'Low score') : tr('抽查', 'Sampled')}<//>`)}</div>
    <p class="meta">${when(item.opened_at)} · ${tr('需求 ', 'request ')}${item.request_id}</p>
    ${item.score && html`<p><${StarsShown} score=${item.score} /> ${item.comment ? `“${item.comment}”` : ''}</p>`}
    <form onSubmit=${(event) => {
      event.preventDefault();
      action.run();
    }}>
      <${Choices} legend=${tr('回访结果', 'Outcome of the call')} name=${`outcome-${item.id}`} value=${outcome} onChange=${setOutcome} columns=${2}
        options=${OUTCOMES.map(([code, zh, en]) => [code, tr(zh, en)])} error=${action.fieldError('outcome')} />
      <${TextArea} name="note" label=${tr('记录（可选）', 'Note (optional)')} value=${note} onInput=${setNote} rows=${2} />
      <${ErrorBox} error=${action.fieldError('outcome') ? null : action.error} />
      <div class="actions"><${Button} type="submit" busy=${action.busy} disabled=${!outcome}>${tr('记录回访', 'Record the call')}<//></div>
    </form>
  <//>`;
}

export function Followups() {
  const state = useLoad(() => get('/api/v1/followups', { status: 'open', limit: 50 }), [], (change) => change.type === 'rating.flagged' || change.type === 'request.rated');
  return html`<${Page} title=${tr('待回访', 'Call-backs')}>
    <p class="lead">${tr('低分评价和抽查的服务，请打电话回访并记录结果。', 'Low ratings and sampled services: call the resident back and record what they said.')}</p>
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('没有待回访的。', 'Nothing to call back.')}<//>`}
    <ul class="cards">${(state.data?.items || []).map((item) => html`<li><${Followup} item=${item} onDone=${state.reload} /></li>`)}</ul>
  <//>`;
}

/** The audit trail comes with another part of the platform; until its API answers, this says so. */
export function Audit() {
  const state = useLoad(async () => {
    try {
      return { page: await get('/api/v1/audit', { limit: 50 }) };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return { missing: true };
      throw error;
    }
  }, []);
  const items = state.data?.page?.items || [];
  return html`<${Page} title=${tr('审计记录', 'Audit trail')}>
    <${Loading} state=${state} />
    ${state.data?.missing && html`<${Card} tone="wait" data-audit="pending">
      <h2>${tr('审计接口尚未上线', 'The audit trail is not available yet')}</h2>
      <p>${tr('谁在什么时候做了什么（登录、指派、审核、更正时长……）将显示在这里。审计服务上线后此页自动显示记录，无需更新控制台。',
        'Who did what and when (logins, assignments, reviews, corrected hours…) will be listed here. Once the audit service answers at /api/v1/audit, this page shows it without a console update.')}</p>
    <//>`}
    ${state.data?.page && !items.length && html`<div data-audit="empty"><${Empty}>${tr('没有记录。', 'No entries.')}<//></div>`}
    ${items.length > 0 && html`<div class="table-wrap" tabindex="0" data-audit="entries"><table>
      <thead><tr><th scope="col">${tr('时间', 'When')}</th><th scope="col">${tr('谁', 'Who')}</th><th scope="col">${tr('做了什么', 'What')}</th><th scope="col">${tr('对象', 'On')}</th></tr></thead>
      <tbody>${items.map((entry) => html`<tr><td>${when(entry.at || entry.occurred_at || entry.created_at)}</td><td>${entry.actor || entry.by || entry.sub || '—'}</td>
        <td>${entry.action || entry.type || '—'}</td><td>${entry.target || entry.request_id || entry.object || '—'}</td></tr>`)}</tbody>
    </table></div>`}
  <//>`;
}


