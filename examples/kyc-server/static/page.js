// What both KYC pages use: element lookup, status lines, JSON answers that throw their error
// message, and a fetch that sends the bearer token kept under a sessionStorage key.
'use strict';
const $ = (id) => document.getElementById(id);
const show = (id, on) => $(id).classList.toggle('hidden', !on);

function say(id, text, kind) {
  const el = $(id);
  el.textContent = text;
  el.className = 'status' + (kind ? ' ' + kind : '');
}

async function answer(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || res.statusText);
  return body;
}

function stored(key) {
  return JSON.parse(sessionStorage.getItem(key) || 'null');
}

// fetch with the tokens under `key`; a 401 is retried once after refreshing them.
async function authorized(key, path, options = {}) {
  const t = stored(key);
  const headers = Object.assign({}, options.headers || {});
  if (t) headers.Authorization = 'Bearer ' + t.access_token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401 && t && !options.retried) {
    const r = await fetch('/api/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: t.refresh_token }) });
    if (r.ok) {
      sessionStorage.setItem(key, JSON.stringify(await r.json()));
      return authorized(key, path, Object.assign({}, options, { retried: true }));
    }
    sessionStorage.removeItem(key);
  }
  return res;
}
