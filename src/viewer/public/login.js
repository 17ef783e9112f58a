// Sign-in: the viewer reads nothing without a token. The token typed here is checked with
// GET /api/v1/whoami and kept in sessionStorage (this tab only) by api.js.
import { ApiError, clearToken, getJSON, getToken, setToken } from './api.js';
import { el } from './util.js';

/** Who the stored token stands for, or null when there is none or the daemon refuses it. */
export async function currentUser() {
  if (!getToken()) return null;
  try {
    return await getJSON('/whoami');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** Shows the sign-in form in `root` until a token is accepted; resolves to whoami's answer. */
export function signIn(root, notice = '') {
  return new Promise((resolve) => {
    const input = el('input', { id: 'login-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'login-help' });
    const error = el('p', { class: 'error', role: 'alert', id: 'login-error' }, notice);
    const button = el('button', { type: 'submit' }, 'Sign in');
    const form = el('form', { class: 'login-form', 'aria-labelledby': 'login-h' },
      el('label', { for: 'login-token' }, 'Token'), input, button, error);
    const section = el('section', { class: 'login' },
      el('h2', { id: 'login-h' }, 'Sign in to GRM'),
      el('p', { id: 'login-help' },
        'Paste your GRM token. An administrator issues one with ', el('code', {}, 'grm user token NAME'),
        '; the first administrator\'s is in ', el('code', {}, 'admin.token'), ' in the daemon\'s data directory.'),
      form,
      el('p', { class: 'muted' }, 'The token stays in this browser tab (session storage) and is sent to this daemon only.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.textContent = '';
      setToken(input.value.trim());
      try {
        resolve(await getJSON('/whoami'));
        return;
      } catch (err) {
        clearToken();
        // the daemon's own words: wrong, expired, revoked, or a disabled user
        error.textContent = err instanceof ApiError && err.status === 401 ? err.message : `The daemon does not answer: ${err.message}`;
      }
      button.disabled = false;
      input.select();
    });
    root.replaceChildren(section);
    input.focus();
  });
}
