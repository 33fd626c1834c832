// Logging in: residents with their phone and a one-time code, everyone else with a password.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { askForCode, devInbox, loginWithCode, loginWithPassword } from '../api.js';
import { tr, when } from '../i18n.js';
import { Button, Card, Empty, ErrorBox, Page, TextInput, useAction } from '../ui.js';

function ResidentLogin({ hasInbox }) {
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [sent, setSent] = useState(false);
  const asking = useAction(async () => {
    await askForCode(phone.trim());
    setSent(true);
  });
  const verifying = useAction(() => loginWithCode(phone.trim(), code.trim()));
  return html`<${Card}>
    <h2>${tr('居民：手机号登录', 'Residents: phone number')}</h2>
    <form onSubmit=${(event) => {
      event.preventDefault();
      (sent ? verifying : asking).run();
    }}>
      <${TextInput} name="phone" label=${tr('手机号', 'Phone number')} type="tel" inputmode="numeric"
        autocomplete="tel" value=${phone} onInput=${setPhone} error=${asking.fieldError('phone') || verifying.fieldError('phone')} />
      ${sent && html`<${TextInput} name="code" label=${tr('短信验证码（6 位）', 'Code from the text message (6 digits)')}
        inputmode="numeric" autocomplete="one-time-code" value=${code} onInput=${setCode} error=${verifying.fieldError('code')} />`}
      ${sent && html`<p class="alert ok" role="status">${tr('验证码已发送，5 分钟内有效。', 'The code is on its way; it is valid for 5 minutes.')}
        ${hasInbox && html` <a href=${`#/dev-inbox?to=${encodeURIComponent(phone.trim())}`} target="_blank" rel="noopener">
          ${tr('打开开发收件箱查看验证码', 'Open the development inbox to read it')}</a>`}</p>`}
      <${ErrorBox} error=${asking.error || verifying.error} />
      <div class="actions">
        ${sent
          ? html`<${Button} busy=${verifying.busy} type="submit">${tr('用验证码登录', 'Log in with the code')}<//>
              <${Button} kind="secondary" type="button" busy=${asking.busy} onClick=${() => asking.run()}>${tr('重新发送', 'Send again')}<//>`
          : html`<${Button} busy=${asking.busy} type="submit">${tr('获取验证码', 'Send me a code')}<//>`}
      </div>
    </form>
  <//>`;
}

function PasswordLogin() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(() => loginWithPassword(username.trim(), password));
  return html`<${Card}>
    <h2>${tr('志愿者、小巷管家、工作人员', 'Volunteers, stewards and staff')}</h2>
    <form onSubmit=${(event) => {
      event.preventDefault();
      action.run();
    }}>
      <${TextInput} name="username" label=${tr('用户名', 'User name')} autocomplete="username" value=${username}
        onInput=${setUsername} error=${action.fieldError('username')} />
      <${TextInput} name="password" label=${tr('密码', 'Password')} type="password" autocomplete="current-password"
        value=${password} onInput=${setPassword} error=${action.fieldError('password')} />
      ${action.error?.status === 401
        ? html`<p class="alert error" role="alert">${tr('用户名或密码不对；连续错 5 次会锁定 15 分钟。', 'Wrong user name or password; 5 wrong tries lock it for 15 minutes.')}</p>`
        : html`<${ErrorBox} error=${action.error} />`}
      <div class="actions"><${Button} busy=${action.busy} type="submit">${tr('登录', 'Log in')}<//></div>
    </form>
  <//>`;
}

export function Login() {
  const [hasInbox, setHasInbox] = useState(false);
  useEffect(() => {
    // Only local profiles have a development inbox; elsewhere its address answers 404.
    devInbox('13800000000').then(() => setHasInbox(true), () => setHasInbox(false));
  }, []);
  return html`<${Page} title=${tr('登录', 'Log in')}>
    <p class="lead">${tr('古田县新时代文明实践中心：点单、派单、接单、评单。', 'Gutian County civilization-practice centre: order, dispatch, serve, rate.')}</p>
    <div class="grid-2">
      <${ResidentLogin} hasInbox=${hasInbox} />
      <${PasswordLogin} />
    </div>
  <//>`;
}

/** What SMS, WeChat and email would have sent (local profiles only): the login codes among them. */
export function DevInbox({ query }) {
  const [to, setTo] = useState(query.get('to') || '');
  const [shown, setShown] = useState(query.get('to') || '');
  const [state, setState] = useState({ items: null, error: null });
  useEffect(() => {
    if (!shown) return undefined;
    const load = () => devInbox(shown).then((page) => setState({ items: page.items, error: null }), (error) => setState({ items: null, error }));
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [shown]);
  return html`<${Page} title=${tr('开发收件箱', 'Development inbox')}>
    <p class="lead">${tr('本地环境不真正发送短信、微信和邮件；这里显示本该发出的内容。', 'Locally nothing is really sent; this is what SMS, WeChat and email would have carried.')}</p>
    <form class="inline-form" onSubmit=${(event) => {
      event.preventDefault();
      setShown(to.trim());
    }}>
      <${TextInput} name="to" label=${tr('手机号或邮箱', 'Phone or email')} value=${to} onInput=${setTo} />
      <${Button} type="submit">${tr('查看', 'Show')}<//>
    </form>
    <${ErrorBox} error=${state.error} />
    ${state.items && !state.items.length && html`<${Empty}>${tr('还没有消息。', 'No messages yet.')}<//>`}
    <ul class="cards">
      ${(state.items || []).map(
        (message) => html`<li><${Card}>
          <p class="meta">${message.channel} · ${when(message.created_at)} · ${message.to}</p>
          <h2 class="card-title">${message.subject}</h2>
          <p class="message-text">${message.text}</p>
        <//></li>`,
      )}
    </ul>
    <p><a href="#/login">${tr('返回登录', 'Back to log in')}</a></p>
  <//>`;
}
