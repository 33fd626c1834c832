// htm bound to Preact: JSX-like templates in plain JavaScript, so the browser runs the files as
// they are written (no compiler, no bundle).
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
