// Where a service is wanted: the county's townships and each township's villages and communities,
// read from the organisation (the volunteers service), once per page load.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';

let townships = null;
const villages = new Map();
const STATION_SUFFIX = /新时代文明实践站$/;

export function useTownships() {
  const [names, setNames] = useState(townships || []);
  useEffect(() => {
    if (townships) return;
    get('/api/v1/organisation/institutes', { limit: 100 })
      .then((page) => {
        townships = page.items.map((institute) => institute.township);
        setNames(townships);
      })
      .catch(() => {});
  }, []);
  return names;
}

/** A township's villages and communities: its practice stations' names without the township and suffix. */
export function useVillages(township) {
  const [names, setNames] = useState(villages.get(township) || []);
  useEffect(() => {
    if (!township) {
      setNames([]);
      return;
    }
    if (villages.has(township)) {
      setNames(villages.get(township));
      return;
    }
    Promise.all(
      ['village', 'community'].map((kind) => get('/api/v1/stations', { township, kind, limit: 100 }).catch(() => ({ items: [] }))),
    ).then((pages) => {
      const found = pages
        .flatMap((page) => page.items)
        .map((station) => station.name.replace(township, '').replace(STATION_SUFFIX, ''))
        .filter(Boolean);
      villages.set(township, found);
      setNames(found);
    });
  }, [township]);
  return names;
}
