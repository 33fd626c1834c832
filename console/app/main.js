// The console: one page, role-aware navigation, hash routes (#/order, #/requests/<id>, …) so the
// gateway serves a single file and a reload lands where the person was.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { currentSession, get, logout, onSession, restore } from './api.js';
import { currentLang, onLang, setLang, tr } from './i18n.js';
import { Icon } from './icons.js';
import { liveState, onChange, onLiveState, startLive, stopLive } from './live.js';
import { DevInbox, Login } from './pages/login.js';
import { Notices, Preferences } from './pages/notifications.js';
import { MyRequests, Order, RequestDetail, Wishes } from './pages/resident.js';
import { Hours, Offers, Pool, Visits } from './pages/volunteer.js';
import { MyReports, Patrol } from './pages/steward.js';
import { Board, JobDetail } from './pages/dispatcher.js';
import { Audit, Followups, Rates } from './pages/staff.js';

// Each role's pages, in the order its navigation shows them; the first is its home.
const NAV = {
  resident: [
    ['order', '点单', 'Order', 'order'],
    ['requests', '我的需求', 'My requests', 'list'],
    ['wishes', '微心愿', 'Wishes', 'heart'],
  ],
  volunteer: [
    ['tasks', '任务', 'Tasks', 'inbox'],
    ['pool', '抢单', 'Claim', 'hand'],
    ['hours', '时长', 'Hours', 'clock'],
    ['visits', '结对走访', 'Visits', 'visit'],
  ],
  steward: [
    ['patrol', '巡查上报', 'Report', 'flag'],
    ['patrols', '我的上报', 'My reports', 'list'],
  ],
  dispatcher: [
    ['board', '调度台', 'Dispatch', 'board'],
    ['stats', '三率', 'Rates', 'chart'],
    ['followups', '回访', 'Call-backs', 'phone'],
  ],
  admin: [
    ['stats', '三率', 'Rates', 'chart'],
    ['board', '调度台', 'Dispatch', 'board'],
    ['followups', '回访', 'Call-backs', 'phone'],
    ['audit', '审计', 'Audit', 'shield'],
  ],
};
const PAGES = {
  order: Order,
  requests: MyRequests,
  wishes: Wishes,
  tasks: Offers,
  pool: Pool,
  hours: Hours,
  visits: Visits,
  patrol: Patrol,
  patrols: MyReports,
  board: Board,
  stats: Rates,
  followups: Followups,
  audit: Audit,
  notices: Notices,
  settings: Preferences,
};
const DETAIL = { requests: RequestDetail, board: JobDetail };

const parseRoute = () => {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [page = '', id = ''] = path.split('/').map(decodeURIComponent);
  return { page, id, query: new URLSearchParams(query) };
};
export const go = (path) => {
  location.hash = `#/${path}`;
};

function UnreadBell() {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    const load = () =>
      get('/api/v1/notifications', { unread: true, limit: 1 })
        .then((page) => setUnread(page.unread))
        .catch(() => {});
    load();
    const stop = onChange(() => setTimeout(load, 800));
    window.addEventListener('civicloop:notices-read', load);
    return () => {
      stop();
      window.removeEventListener('civicloop:notices-read', load);
    };
  }, []);
  return html`<a class="bell" href="#/notices" aria-label=${tr(`通知，${unread} 条未读`, `Notices, ${unread} unread`)}>
    <${Icon} name="bell" />${unread > 0 && html`<span class="count" aria-hidden="true">${unread > 99 ? '99+' : unread}</span>`}
  </a>`;
}

function LiveDot() {
  const [state, setState] = useState(liveState());
  useEffect(() => onLiveState(setState), []);
  const text = state === 'on' ? tr('实时', 'Live') : tr('连接中', 'Connecting');
  return html`<span class=${`live-dot live-${state}`} title=${text}><span class="sr-only">${text}</span></span>`;
}

function Header({ session }) {
  const lang = currentLang();
  return html`<header class="top">
    <a class="brand" href=${session ? '#/' : '#/login'}>
      <svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><circle cx="16" cy="16" r="15" /><path d="M9 17l5 5 9-11" /></svg>
      <span>${tr('古田志愿', 'Gutian Volunteers')}</span>
    </a>
    <div class="top-actions">
      ${session && html`<${LiveDot} />`}
      ${session && html`<${UnreadBell} />`}
      <button class="link-button" lang=${lang === 'en' ? 'zh-CN' : 'en'} onClick=${() => setLang(lang === 'en' ? 'zh' : 'en')}>
        ${lang === 'en' ? '中文' : 'English'}
      </button>
      ${session && html`<a class="link-button" href="#/settings">${tr('设置', 'Settings')}</a>`}
      ${session && html`<button class="link-button" onClick=${() => logout().then(() => go('login'))}>
        ${tr('退出', 'Log out')}</button>`}
    </div>
  </header>`;
}

function Nav({ role, page }) {
  const items = NAV[role] || [];
  return html`<nav class="tabs" aria-label=${tr('主要功能', 'Main')}>
    <ul>
      ${items.map(
        ([name, zh, en, icon]) => html`<li><a href=${`#/${name}`} aria-current=${name === page ? 'page' : undefined}>
          <${Icon} name=${icon} /><span>${tr(zh, en)}</span></a></li>`,
      )}
    </ul>
  </nav>`;
}

function App() {
  const [session, setSession] = useState(undefined);
  const [route, setRoute] = useState(parseRoute());
  const [, setLangTick] = useState(0);
  useEffect(() => {
    const stopSession = onSession((next) => {
      setSession(next);
      if (next) startLive(() => restore());
      else stopLive();
    });
    restore().then((found) => setSession(found));
    const stopLang = onLang(() => setLangTick((n) => n + 1));
    const onHash = () => {
      setRoute(parseRoute());
      // The new page's heading takes the focus, as a page load would for a screen reader.
      requestAnimationFrame(() => document.getElementById('page-title')?.focus());
    };
    window.addEventListener('hashchange', onHash);
    return () => {
      stopSession();
      stopLang();
      window.removeEventListener('hashchange', onHash);
    };
  }, []);

  if (session === undefined) return html`<p class="boot" role="status">${tr('正在打开…', 'Loading…')}</p>`;

  let body;
  const role = session?.account.role;
  if (route.page === 'dev-inbox') body = html`<${DevInbox} query=${route.query} />`;
  else if (!session) body = html`<${Login} query=${route.query} />`;
  else {
    const home = NAV[role]?.[0]?.[0] || 'notices';
    const allowed = new Set([...(NAV[role] || []).map(([name]) => name), 'notices', 'settings']);
    const page = allowed.has(route.page) ? route.page : home;
    if (page !== route.page) {
      // A role's home, or a page of another role: show the home and say so in the address bar.
      setTimeout(() => go(page), 0);
    }
    const View = (route.id && DETAIL[page]) || PAGES[page];
    body = html`<${View} id=${route.id} query=${route.query} session=${session} />`;
  }
  return html`
    <a class="skip" href="#main">${tr('跳到正文', 'Skip to content')}</a>
    <${Header} session=${session} />
    ${session && html`<${Nav} role=${role} page=${route.page} />`}
    <main id="main" tabindex="-1">${body}</main>`;
}

export const account = () => currentSession()?.account;
render(html`<${App} />`, document.getElementById('app'));
