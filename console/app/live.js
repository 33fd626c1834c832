// The live stream (ADR 0084): one EventSource per signed-in tab. A notice says only what changed;
// the pages that show it re-read it through the API, where ownership is checked.

const changeListeners = new Set();
const stateListeners = new Set();
let source = null;
let state = 'off';

function setState(next) {
  state = next;
  document.documentElement.dataset.live = next;
  for (const listener of stateListeners) listener(next);
}

export const liveState = () => state;
export const onLiveState = (listener) => {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
};
export const onChange = (listener) => {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
};

/** Open the stream (the session's live cookie authenticates it); `ended` means log in again. */
export function startLive(onEnded) {
  stopLive();
  source = new EventSource('/api/v1/live/stream');
  setState('connecting');
  source.addEventListener('ready', () => setState('on'));
  source.addEventListener('change', (event) => {
    let change;
    try {
      change = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const listener of changeListeners) listener(change);
  });
  source.addEventListener('ended', () => {
    stopLive();
    onEnded?.();
  });
  // EventSource reconnects by itself after a dropped line; show that it is trying.
  source.onerror = () => {
    if (source && source.readyState !== EventSource.CLOSED) setState('connecting');
  };
}

export function stopLive() {
  if (source) source.close();
  source = null;
  setState('off');
}
