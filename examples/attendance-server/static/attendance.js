// The attendance dashboard: sign in (staff: admin or viewer), each camera's live MJPEG view with
// its status, today's attendance, and an employee's history. Plain JS against the server's API.
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('faceprint-attendance-token');
let timer = null;

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { ...(options.headers || {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const body = await res.json().catch(() => null);
  if (res.status === 401 && path !== '/api/auth/admin/login') {
    signOut();
    throw new Error('signed out');
  }
  if (!res.ok) throw new Error((body && body.message) || `HTTP ${res.status}`);
  return body;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
const dateTime = (ms) => (ms ? new Date(ms).toLocaleString() : '');
function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function signOut() {
  token = null;
  sessionStorage.removeItem('faceprint-attendance-token');
  clearInterval(timer);
  // Stop the live streams.
  for (const img of document.querySelectorAll('#cameras img')) img.src = '';
  $('cameras').replaceChildren();
  $('app').classList.add('hidden');
  $('logout').classList.add('hidden');
  $('signin').classList.remove('hidden');
}

async function signIn(event) {
  event.preventDefault();
  $('signin-error').textContent = '';
  try {
    const t = await api('/api/auth/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: $('username').value, password: $('password').value }),
    });
    token = t.access_token;
    sessionStorage.setItem('faceprint-attendance-token', token);
    await show();
  } catch (e) {
    $('signin-error').textContent = e.message;
  }
}

async function show() {
  $('signin').classList.add('hidden');
  $('app').classList.remove('hidden');
  $('logout').classList.remove('hidden');
  await Promise.all([cameras(), today()]);
  clearInterval(timer);
  timer = setInterval(() => { statuses().catch(() => {}); today().catch(() => {}); }, 2000);
}

async function cameras() {
  const list = await api('/api/cameras');
  $('no-cameras').classList.toggle('hidden', list.length > 0);
  const grid = $('cameras');
  grid.replaceChildren();
  for (const c of list) {
    const card = document.createElement('div');
    card.className = 'camera';
    card.dataset.camera = c.id;
    const h = document.createElement('h3');
    h.textContent = `${c.name} (${c.role})`;
    const img = document.createElement('img');
    img.alt = `live view of ${c.name}`;
    const offline = document.createElement('p');
    offline.className = 'offline hidden';
    offline.textContent = 'not running';
    img.addEventListener('error', () => offline.classList.remove('hidden'));
    if (c.enabled) img.src = `/stream/${encodeURIComponent(c.id)}?access_token=${encodeURIComponent(token)}`;
    else offline.classList.remove('hidden');
    const status = document.createElement('div');
    status.className = 'status';
    card.append(h, img, offline, status);
    grid.append(card);
  }
  await statuses();
}

async function statuses() {
  const all = await api('/stream/status');
  for (const s of all) {
    const el = document.querySelector(`[data-camera="${CSS.escape(s.camera_id)}"] .status`);
    if (!el) continue;
    const people = s.tracks.map((t) => t.name || `#${t.track_id}`).join(', ') || 'nobody';
    el.textContent = `${s.state} · ${s.fps_in.toFixed(1)} fps in, ${s.fps_processed.toFixed(1)} processed · ` +
      `${s.frames_dropped} dropped · in view: ${people} · visits ${s.records_written}` +
      (s.last_error && s.state !== 'running' ? ` · ${s.last_error}` : '');
  }
}

async function today() {
  const d = await api('/api/attendance/summary');
  $('today-day').textContent = `${d.day} (work starts ${d.workday_start})`;
  $('today-counts').textContent = `${d.present} present, ${d.late} late, ${d.absent} absent, ${d.unknown_tracks} unknown faces`;
  const rows = d.employees.map((e) => {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    const b = document.createElement('button');
    b.className = 'link';
    b.type = 'button';
    b.textContent = e.name;
    b.addEventListener('click', () => history(e.employee_id, e.name));
    name.append(b);
    tr.append(name, cell(e.status, e.status), cell(time(e.first_seen_ms)), cell(time(e.last_seen_ms)), cell(String(e.visits)));
    return tr;
  });
  $('today').querySelector('tbody').replaceChildren(...rows);
}

async function history(id, name) {
  const [records, cams] = await Promise.all([
    api(`/api/records?employee_id=${encodeURIComponent(id)}&limit=200`),
    api('/api/cameras'),
  ]);
  const camName = Object.fromEntries(cams.map((c) => [c.id, c.name]));
  $('history-name').textContent = name;
  const rows = records.map((r) => {
    const tr = document.createElement('tr');
    tr.append(cell(dateTime(r.first_seen_ms)), cell(time(r.last_seen_ms)), cell(camName[r.camera_id] || r.camera_id),
      cell(r.direction), cell(r.score.toFixed(3)));
    return tr;
  });
  $('history').querySelector('tbody').replaceChildren(...rows);
  $('history-section').classList.remove('hidden');
}

$('signin-form').addEventListener('submit', signIn);
$('logout').addEventListener('click', signOut);
if (token) show().catch(() => signOut());
