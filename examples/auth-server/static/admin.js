// The admin page: password login, statistics, users. Token in sessionStorage.
'use strict';
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('faceprint.admin');

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) {
    sessionStorage.removeItem('faceprint.admin');
    token = null;
    render();
  }
  return res;
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text == null ? '' : String(text);
  tr.append(td);
  return td;
}

async function render() {
  $('login-box').classList.toggle('hidden', !!token);
  $('dashboard').classList.toggle('hidden', !token);
  if (!token) return;
  const res = await api('/api/admin/stats?days=30');
  if (!res.ok) return;
  const s = await res.json();
  const tiles = $('tiles');
  tiles.textContent = '';
  const rate = s.login_success_rate == null ? '—' : (100 * s.login_success_rate).toFixed(1) + ' %';
  for (const [label, value] of [['Users', s.users], ['Disabled', s.disabled_users], ['Active sessions', s.active_sessions], ['Logins', s.logins], ['Failed logins', s.failed_logins], ['Success rate', rate], ['Liveness rejections', s.liveness_rejections]]) {
    const d = document.createElement('div');
    d.className = 'tile';
    d.dataset.stat = label;
    const b = document.createElement('b');
    b.textContent = value;
    d.append(b, label);
    tiles.append(d);
  }
  const days = $('days').querySelector('tbody');
  days.textContent = '';
  for (const d of s.per_day) {
    const tr = document.createElement('tr');
    cell(tr, new Date(d.day * 86400000).toISOString().slice(0, 10));
    cell(tr, d.signups); cell(tr, d.logins); cell(tr, d.failed_logins);
    days.append(tr);
  }
  const reasons = $('reasons').querySelector('tbody');
  reasons.textContent = '';
  for (const r of s.failure_reasons) {
    const tr = document.createElement('tr');
    cell(tr, r.reason); cell(tr, r.count);
    reasons.append(tr);
  }
  await renderUsers();
}

async function renderUsers() {
  const q = encodeURIComponent($('search').value);
  const res = await api('/api/admin/users?limit=50&search=' + q);
  if (!res.ok) return;
  const page = await res.json();
  const body = $('users').querySelector('tbody');
  body.textContent = '';
  for (const u of page.users) {
    const tr = document.createElement('tr');
    cell(tr, u.name); cell(tr, u.email); cell(tr, u.status); cell(tr, u.faces);
    cell(tr, u.last_login_ms ? new Date(u.last_login_ms).toLocaleString() : '—');
    const td = cell(tr, '');
    const toggle = document.createElement('button');
    toggle.className = 'secondary';
    toggle.textContent = u.status === 'disabled' ? 'Enable' : 'Disable';
    toggle.onclick = async () => { await api(`/api/admin/users/${u.id}/${u.status === 'disabled' ? 'enable' : 'disable'}`, { method: 'POST' }); render(); };
    td.append(toggle);
    body.append(tr);
  }
}

$('login').onclick = async () => {
  const res = await fetch('/api/auth/admin/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: $('username').value, password: $('password').value }) });
  if (!res.ok) {
    $('login-status').textContent = 'Login failed.';
    return;
  }
  token = (await res.json()).access_token;
  sessionStorage.setItem('faceprint.admin', token);
  $('login-status').textContent = '';
  render();
};
$('search').oninput = () => renderUsers();
$('logout').onclick = async () => {
  await api('/api/auth/logout', { method: 'POST' });
  sessionStorage.removeItem('faceprint.admin');
  token = null;
  render();
};
render();
