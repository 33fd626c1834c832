// Chinese first, English on request. Each text is written in both languages where it is used
// (tr('中文', 'English')): no key file to keep in step, and a missing translation shows in review.

const STORE = 'civicloop.lang';
let lang = localStorage.getItem(STORE) === 'en' ? 'en' : 'zh';
const listeners = new Set();

export const currentLang = () => lang;
export const tr = (zh, en) => (lang === 'en' ? en : zh);
/** A bilingual value from the API ({zh, en}). */
export const bi = (value) => (value ? (lang === 'en' ? value.en : value.zh) : '');

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem(STORE, lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const listener of listeners) listener(lang);
}
export const onLang = (listener) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';

// The county keeps China Standard Time; a phone set to another zone still reads county time.
const ZONE = 'Asia/Shanghai';
export function when(value, { date = true, time = true } = {}) {
  if (!value) return '';
  const options = { timeZone: ZONE, hour12: false };
  if (date) Object.assign(options, { month: 'numeric', day: 'numeric' });
  if (time) Object.assign(options, { hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', options).format(new Date(value));
}
export const percent = (rate) => (rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`);
export const number = (value) => new Intl.NumberFormat(lang === 'en' ? 'en' : 'zh-CN').format(value ?? 0);

// Request states in the words residents use (审核中 / 服务中 / 已完成 …), and a tone for the badge.
const STATUS = {
  submitted: ['已提交', 'Submitted', 'wait'],
  in_review: ['审核中', 'In review', 'wait'],
  dispatched: ['派单中', 'Finding a volunteer', 'wait'],
  escalated: ['人工派单中', 'With a dispatcher', 'wait'],
  accepted: ['已接单', 'Accepted', 'go'],
  in_service: ['服务中', 'In service', 'go'],
  completed: ['待评价', 'Please rate', 'act'],
  rated: ['已评价', 'Rated', 'done'],
  closed: ['已完成', 'Done', 'done'],
  rejected: ['未通过', 'Not approved', 'stop'],
  cancelled: ['已取消', 'Cancelled', 'stop'],
};
export const statusWord = (status) => tr(...(STATUS[status] || [status, status]).slice(0, 2));
export const statusTone = (status) => (STATUS[status] || [])[2] || 'wait';

const TASK = {
  offered: ['待确认', 'Waiting for you'],
  accepted: ['已接单', 'Accepted'],
  in_service: ['服务中', 'In service'],
  completed: ['已完成', 'Done'],
  declined: ['已婉拒', 'Declined'],
  withdrawn: ['已撤回', 'Withdrawn'],
};
export const taskWord = (status) => tr(...(TASK[status] || [status, status]));

export const URGENCY = {
  low: ['不急', 'Not urgent'],
  normal: ['一般', 'Normal'],
  high: ['较急', 'Soon'],
  urgent: ['紧急', 'Urgent'],
};
export const urgencyWord = (urgency) => tr(...(URGENCY[urgency] || [urgency, urgency]));

// The dispatch engine's own reasons are fixed English sentences; a person's reason (a decline, a
// rejection) is shown as they wrote it.
const REASONS = {
  'this category is reviewed before dispatch': '这类服务需先审核',
  'micro-wishes are open for volunteers to claim': '微心愿开放给志愿者认领',
  'everyone eligible declined or let the offer expire': '符合条件的志愿者都婉拒了或超时未回',
  'no active volunteer or team has the skills, the time and room': '暂无有相应技能、时间和余力的志愿者或服务队',
  'no answer before the deadline': '期限内没有回复',
  'the volunteer a dispatcher chose did not take it': '调度员指派的志愿者没有接单',
  'claimed from the pool by someone else': '已被其他人从抢单池认领',
  'accepted after the deadline': '过了期限才接单',
};
export const reasonWord = (reason) => (reason && lang !== 'en' && REASONS[reason]) || reason || '';
