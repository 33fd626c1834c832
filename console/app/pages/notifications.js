// Notices in the console (the accounts API), and each person's channels and quiet hours.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, put } from '../api.js';
import { tr, when } from '../i18n.js';
import { Button, Card, Done, Empty, ErrorBox, Loading, Page, TextInput, useAction, useLoad } from '../ui.js';

const TOPICS = [
  ['offer', '新任务', 'New offers'],
  ['status', '需求进度', 'Progress of my requests'],
  ['escalation', '转人工与低分', 'Escalations and low ratings'],
  ['followup', '回访', 'Call-backs'],
  ['visit', '结对走访', 'Pairing visits'],
];
const CHANNELS = [
  ['console', '控制台', 'Console'],
  ['sms', '短信', 'SMS'],
  ['wechat', '微信', 'WeChat'],
  ['email', '邮件', 'Email'],
];

/** Where a notice leads: the request for its resident, the tasks for a volunteer, the board for staff. */
function target(notice, role) {
  if (role === 'resident' && notice.request_id) return `#/requests/${notice.request_id}`;
  if (role === 'volunteer') return notice.topic === 'visit' ? '#/visits' : '#/tasks';
  if ((role === 'dispatcher' || role === 'admin') && notice.topic === 'followup') return '#/followups';
  if ((role === 'dispatcher' || role === 'admin') && notice.request_id) return `#/board/${notice.request_id}`;
  if (role === 'steward') return '#/patrols';
  return null;
}

export function Notices({ session }) {
  const state = useLoad(() => get('/api/v1/notifications', { limit: 50 }), [], () => true);
  const readAll = useAction(async () => {
    await post('/api/v1/notifications/read-all');
    window.dispatchEvent(new Event('civicloop:notices-read'));
    state.reload();
  });
  const open = async (notice) => {
    if (!notice.read_at) {
      await post(`/api/v1/notifications/${notice.id}/read`).catch(() => {});
      window.dispatchEvent(new Event('civicloop:notices-read'));
    }
    const link = target(notice, session.account.role);
    if (link) location.hash = link;
    else state.reload();
  };
  return html`<${Page} title=${tr('通知', 'Notices')}
      actions=${state.data?.unread > 0 && html`<${Button} kind="secondary" busy=${readAll.busy} onClick=${() => readAll.run()}>${tr('全部已读', 'Mark all read')}<//>`}>
    <${Loading} state=${state} />
    ${state.data && html`<p class="meta" aria-live="polite">${tr(`${state.data.unread} 条未读`, `${state.data.unread} unread`)}</p>`}
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('还没有通知。', 'No notices yet.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map(
        (notice) => html`<li><button class=${`notice${notice.read_at ? '' : ' unread'}`} onClick=${() => open(notice)}>
          <span class="notice-title">${notice.read_at ? '' : html`<span class="sr-only">${tr('未读：', 'Unread: ')}</span>`}${notice.title}</span>
          <span class="notice-text">${notice.text}</span>
          <span class="meta">${when(notice.created_at)}</span>
        </button></li>`,
      )}
    </ul>
  <//>`;
}

export function Preferences() {
  const state = useLoad(() => get('/api/v1/notifications/preferences'), []);
  const [form, setForm] = useState(null);
  useEffect(() => {
    if (state.data) {
      setForm({
        channels: state.data.channels,
        quiet_start: state.data.quiet_start || '',
        quiet_end: state.data.quiet_end || '',
        email: state.data.email || '',
        phone: '',
      });
    }
  }, [state.data]);
  const save = useAction(async () => {
    const body = { channels: form.channels };
    if (form.quiet_start && form.quiet_end) Object.assign(body, { quiet_start: form.quiet_start, quiet_end: form.quiet_end });
    if (form.email.trim()) body.email = form.email.trim();
    if (form.phone.trim()) body.phone = form.phone.trim();
    return put('/api/v1/notifications/preferences', body);
  });
  const toggle = (topic, channel) => {
    const chosen = new Set(form.channels[topic] || []);
    if (chosen.has(channel)) chosen.delete(channel);
    else chosen.add(channel);
    setForm({ ...form, channels: { ...form.channels, [topic]: CHANNELS.map(([c]) => c).filter((c) => chosen.has(c)) } });
  };
  return html`<${Page} title=${tr('通知设置', 'Notice settings')}>
    <${Loading} state=${state} />
    ${form && html`<form onSubmit=${(event) => {
      event.preventDefault();
      save.run();
    }}>
      <${Card}>
        <h2>${tr('用什么方式通知我', 'How to tell me')}</h2>
        <p class="meta">${tr('控制台里的通知总是有的。', 'Notices in the console are always on.')}</p>
        <div class="table-wrap" tabindex="0"><table class="prefs">
          <thead><tr><th scope="col">${tr('事项', 'About')}</th>${CHANNELS.map(([, zh, en]) => html`<th scope="col">${tr(zh, en)}</th>`)}</tr></thead>
          <tbody>${TOPICS.map(([topic, zh, en]) => html`<tr><th scope="row">${tr(zh, en)}</th>
            ${CHANNELS.map(([channel, czh, cen]) => html`<td><input type="checkbox" aria-label=${`${tr(zh, en)}：${tr(czh, cen)}`}
              checked=${channel === 'console' || (form.channels[topic] || []).includes(channel)} disabled=${channel === 'console'}
              onChange=${() => toggle(topic, channel)} /></td>`)}</tr>`)}</tbody>
        </table></div>
      <//>
      <${Card}>
        <h2>${tr('免打扰时段', 'Quiet hours')}</h2>
        <p class="meta">${tr('这段时间里短信和微信会等到结束后再发。', 'SMS and WeChat wait until quiet hours end.')}</p>
        <div class="grid-2">
          <${TextInput} name="quiet_start" type="time" label=${tr('从', 'From')} value=${form.quiet_start} onInput=${(v) => setForm({ ...form, quiet_start: v })} error=${save.fieldError('quiet_start')} />
          <${TextInput} name="quiet_end" type="time" label=${tr('到', 'Until')} value=${form.quiet_end} onInput=${(v) => setForm({ ...form, quiet_end: v })} error=${save.fieldError('quiet_end')} />
        </div>
        <${TextInput} name="phone" type="tel" label=${tr('接收短信的手机号', 'Phone for SMS')} hint=${state.data.phone_masked ? tr(`现在：${state.data.phone_masked}`, `now ${state.data.phone_masked}`) : null}
          value=${form.phone} onInput=${(v) => setForm({ ...form, phone: v })} error=${save.fieldError('phone')} />
        <${TextInput} name="email" type="email" label=${tr('邮箱', 'Email')} value=${form.email} onInput=${(v) => setForm({ ...form, email: v })} error=${save.fieldError('email')} />
      <//>
      <${ErrorBox} error=${save.error} />
      ${save.done && html`<${Done}>${tr('已保存。', 'Saved.')}<//>`}
      <div class="actions"><${Button} type="submit" busy=${save.busy}>${tr('保存', 'Save')}<//></div>
    </form>`}
  <//>`;
}
