// Alley stewards (小巷管家): a patrol report in one screen — where, what, how it was dealt with
// (three tiers), a photo link if there is one — and their reports.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, idempotencyKey, post } from '../api.js';
import { bi, tr, urgencyWord, when } from '../i18n.js';
import { useTownships, useVillages } from '../places.js';
import {
  Badge, Button, Card, Choices, Done, Empty, ErrorBox, Loading, Page, Select, StatusBadge, TextArea,
  TextInput, useAction, useLoad,
} from '../ui.js';

const TIERS = [
  ['resolved_on_site', ['现场解决', 'Resolved on site'], ['当场处理好了', 'Dealt with there and then']],
  ['reported_to_community', ['上报社区', 'Report to the community'], ['需要社区派人来办', 'The community should send someone']],
  ['joint_consultation', ['联合会商', 'Joint consultation'], ['需要几方坐下来商量', 'Several parties need to meet']],
];

export function Patrol({ session }) {
  const townships = useTownships();
  const catalog = useLoad(() => get('/api/v1/catalog'), []);
  const [form, setForm] = useState({
    township: session.account.township || '', village: '', address: '', description: '', tier: '',
    resolution_note: '', category: '', urgency: 'normal', parties: '', photo_url: '', latitude: null, longitude: null,
  });
  const villages = useVillages(form.township);
  const [located, setLocated] = useState('');
  const key = useRef(idempotencyKey());
  const set = (name) => (value) => setForm((old) => ({ ...old, [name]: value }));
  const locate = () => {
    if (!navigator.geolocation) return setLocated(tr('这台设备不能定位。', 'This device cannot tell its location.'));
    setLocated(tr('正在定位…', 'Finding you…'));
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setForm((old) => ({ ...old, latitude: position.coords.latitude, longitude: position.coords.longitude }));
        setLocated(tr('已记录位置', 'Location noted') + ` (${position.coords.latitude.toFixed(5)}, ${position.coords.longitude.toFixed(5)})`);
      },
      () => setLocated(tr('没能定位，可以只填地址。', 'No location; the address will do.')),
      { timeout: 10000 },
    );
  };
  const [sent, setSent] = useState(null);
  const submit = useAction(async () => {
    const location = { township: form.township, village: form.village.trim() };
    if (form.address.trim()) location.address = form.address.trim();
    if (form.latitude !== null) Object.assign(location, { latitude: form.latitude, longitude: form.longitude });
    const body = { location, description: form.description.trim(), tier: form.tier, urgency: form.urgency };
    if (form.photo_url.trim()) body.photo_urls = [form.photo_url.trim()];
    if (form.tier === 'resolved_on_site') body.resolution_note = form.resolution_note.trim();
    if (form.tier === 'reported_to_community' && form.category) body.category = form.category;
    if (form.tier === 'joint_consultation') body.parties = form.parties.split(/[,，、\n]/).map((p) => p.trim()).filter(Boolean);
    const report = await post('/api/v1/patrols', body, { 'Idempotency-Key': key.current });
    key.current = idempotencyKey();
    setSent(report);
    setForm((old) => ({ ...old, description: '', resolution_note: '', parties: '', photo_url: '', address: '' }));
    return report;
  });
  const locationError = (name) => submit.fieldError(`location.${name}`);
  return html`<${Page} title=${tr('巡查上报', 'Patrol report')}>
    ${sent && html`<${Done}>${tr('已上报：', 'Reported: ')}${bi(sent.tier_text)} · <a href="#/patrols">${tr('查看我的上报', 'See my reports')}</a><//>`}
    <form onSubmit=${(event) => {
      event.preventDefault();
      submit.run();
    }}>
      <div class="grid-2">
        <${Select} name="township" label=${tr('乡镇（街道）', 'Township')} value=${form.township} onChange=${set('township')}
          placeholder=${tr('请选择', 'Choose')} options=${townships.map((name) => [name, name])} error=${locationError('township')} />
        <${TextInput} name="village" label=${tr('村（社区）', 'Village or community')} value=${form.village} onInput=${set('village')}
          list="patrol-villages" autocomplete="off" error=${locationError('village')} />
        <datalist id="patrol-villages">${villages.map((name) => html`<option value=${name} />`)}</datalist>
      </div>
      <${TextInput} name="address" label=${tr('具体位置（可选）', 'Where exactly (optional)')} value=${form.address} onInput=${set('address')} error=${locationError('address')} />
      <div class="actions"><${Button} kind="secondary" type="button" onClick=${locate}>${tr('用我现在的位置', 'Use where I am')}<//>
        <span class="meta" role="status">${located}</span></div>
      <${TextArea} name="description" label=${tr('发现了什么问题？', 'What did you find?')} value=${form.description} onInput=${set('description')}
        maxlength="2000" error=${submit.fieldError('description')} />
      <${TextInput} name="photo_url" label=${tr('照片链接（可选）', 'Photo link (optional)')} type="url" value=${form.photo_url}
        onInput=${set('photo_url')} hint=${tr('以 http:// 或 https:// 开头', 'Starting with http:// or https://')} error=${submit.fieldError('photo_urls') || submit.fieldError('photo_urls.0')} />
      <${Choices} legend=${tr('怎么处理的？', 'How was it dealt with?')} name="tier" value=${form.tier} onChange=${set('tier')} columns=${3}
        error=${submit.fieldError('tier')} options=${TIERS.map(([code, name, detail]) => [code, tr(...name), tr(...detail)])} />
      ${form.tier === 'resolved_on_site' && html`<${TextArea} name="resolution_note" label=${tr('怎么解决的？', 'How was it resolved?')}
        value=${form.resolution_note} onInput=${set('resolution_note')} error=${submit.fieldError('resolution_note')} />`}
      ${form.tier === 'reported_to_community' && html`<div class="grid-2">
        <${Select} name="category" label=${tr('需要哪类服务（可选）', 'Which service (optional)')} value=${form.category} onChange=${set('category')}
          placeholder=${tr('由社区判断', 'Let the community decide')} options=${(catalog.data?.items || []).map((item) => [item.code, bi(item.name)])}
          error=${submit.fieldError('category')} />
        <${Select} name="urgency" label=${tr('有多急', 'How urgent')} value=${form.urgency} onChange=${set('urgency')}
          options=${['low', 'normal', 'high', 'urgent'].map((code) => [code, urgencyWord(code)])} />
      </div>`}
      ${form.tier === 'joint_consultation' && html`<${TextArea} name="parties" label=${tr('参加会商的各方（两方以上，用逗号分开）', 'The parties to meet (two or more, separated by commas)')}
        value=${form.parties} onInput=${set('parties')} error=${submit.fieldError('parties')} />`}
      <${ErrorBox} error=${submit.error} />
      <div class="actions"><${Button} type="submit" busy=${submit.busy}>${tr('上报', 'Send the report')}<//></div>
    </form>
  <//>`;
}

export function MyReports() {
  const state = useLoad(() => get('/api/v1/patrols', { limit: 50 }), [], (change) => Boolean(change.request_id));
  return html`<${Page} title=${tr('我的上报', 'My reports')}
      actions=${html`<a class="button secondary" href="#/patrol">${tr('新上报', 'New report')}</a>`}>
    <${Loading} state=${state} />
    ${state.data && !state.data.items.length && html`<${Empty}>${tr('还没有上报。', 'No reports yet.')}<//>`}
    <ul class="cards">
      ${(state.data?.items || []).map(
        (report) => html`<li><${Card}>
          <div class="card-top"><${Badge} tone=${report.status === 'closed' ? 'done' : 'wait'}>${bi(report.tier_text)}<//>
            <span class="meta">${when(report.reported_at)}</span></div>
          <p class="meta">${report.township} ${report.village}${report.address ? ` · ${report.address}` : ''}</p>
          <p>${report.description}</p>
          ${report.resolution_note && html`<p class="meta">${tr('处理：', 'Resolution: ')}${report.resolution_note}</p>`}
          ${report.request_status && html`<p>${tr('社区办理：', 'Community order: ')}<${StatusBadge} status=${report.request_status} /></p>`}
          ${report.parties.length > 0 && html`<p class="meta">${tr('会商各方：', 'Parties: ')}${report.parties.join('、')} · ${tr(`已开会 ${report.meetings.length} 次`, `${report.meetings.length} meetings`)}</p>`}
          <p class="meta">${report.status === 'closed' ? tr('已办结', 'Closed') : tr('办理中', 'Open')}</p>
        <//></li>`,
      )}
    </ul>
  <//>`;
}


