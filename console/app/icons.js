// Line icons drawn for the console (24×24, stroke = currentColor): no icon font, no emoji, which
// many phones and the test machine's browser would draw as empty boxes. Decorative: aria-hidden.
import { html } from './html.js';

const PATHS = {
  elder_care: 'M9 4a2 2 0 1 0 4 0a2 2 0 1 0-4 0M11 7v6l-3 7M11 13l3 7M8 10h7M17 10v10',
  study_help: 'M3 6l9-3l9 3l-9 3zM7 8v5c0 2 10 2 10 0V8M21 6v6',
  family_education: 'M7 5a2 2 0 1 0 0.1 0M17 7a2 2 0 1 0 0.1 0M4 21v-7a3 3 0 0 1 6 0v7M14 21v-5a3 3 0 0 1 6 0v5',
  policy_lecture: 'M4 5h16v10H4zM12 15v5M8 20h8M7 9h6M7 12h9',
  health_check: 'M12 20s-7-4.5-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.5-7 10-7 10zM9 11h2v-2h2v2h2v2h-2v2h-2v-2H9z',
  legal_aid: 'M12 4v16M6 20h12M5 8h14M5 8l-3 6a3 3 0 0 0 6 0zM19 8l-3 6a3 3 0 0 0 6 0z',
  environment: 'M5 19c0-8 6-14 15-14c0 9-6 15-14 15M5 19l7-7',
  repairs: 'M14 6a4 4 0 0 0 5 5l-8 8a2 2 0 0 1-3-3l8-8a4 4 0 0 0-2-2',
  culture: 'M9 18V6l11-2v12M9 18a3 3 0 1 1-3-3a3 3 0 0 1 3 3zM20 16a3 3 0 1 1-3-3a3 3 0 0 1 3 3z',
  other: 'M5 12h.01M12 12h.01M19 12h.01M3 5h18v14H3z',
  order: 'M12 5v14M5 12h14',
  list: 'M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01',
  heart: 'M12 20s-7-4.5-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.5-7 10-7 10z',
  bell: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0',
  inbox: 'M3 13l3-8h12l3 8v6H3zM3 13h5l1 2h6l1-2h5',
  hand: 'M7 11V6a1.5 1.5 0 0 1 3 0v4M10 10V4.5a1.5 1.5 0 0 1 3 0V10M13 10V5.5a1.5 1.5 0 0 1 3 0V11M16 11V8a1.5 1.5 0 0 1 3 0v6a7 7 0 0 1-7 7h-1a6 6 0 0 1-5-3l-3-5a1.5 1.5 0 0 1 2.5-1.5L7 14',
  clock: 'M12 3a9 9 0 1 0 0.1 0M12 7v5l3 2',
  home: 'M3 11l9-8l9 8M5 10v10h14V10',
  flag: 'M5 21V4M5 4h12l-2 4l2 4H5',
  board: 'M4 4h7v7H4zM13 4h7v4h-7zM13 10h7v10h-7zM4 13h7v7H4z',
  chart: 'M4 20V10M10 20V4M16 20v-7M22 20H2',
  phone: 'M7 3h10v18H7zM11 18h2',
  star: 'M12 3l2.8 5.7l6.2.9l-4.5 4.4l1 6.2L12 17.3l-5.6 2.9l1-6.2L3 9.6l6.2-.9z',
  speak: 'M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M19 6a8 8 0 0 1 0 12',
  logout: 'M10 4H4v16h6M16 8l4 4l-4 4M20 12H9',
  shield: 'M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6z',
  visit: 'M3 11l9-8l9 8M5 10v10h14V10M10 20v-5h4v5',
};

export function Icon({ name, size = 24, label }) {
  const d = PATHS[name] || PATHS.other;
  return html`<svg class="icon" width=${size} height=${size} viewBox="0 0 24 24" fill="none" stroke="currentColor"
    stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden=${label ? undefined : 'true'}
    role=${label ? 'img' : undefined} aria-label=${label}><path d=${d} /></svg>`;
}
