// The face-login page: camera frames over the WebSocket (/ws/face), tokens in sessionStorage,
// the profile from the REST API. No framework, no build step.
'use strict';
const $ = (id) => document.getElementById(id);
const show = (id, on) => $(id).classList.toggle('hidden', !on);
const tokens = () => JSON.parse(sessionStorage.getItem('faceprint.tokens') || 'null');
const FRAME_INTERVAL_MS = 250;

function status(text, kind) {
  const el = $('instruction');
  el.textContent = text;
  el.className = 'status' + (kind ? ' ' + kind : '');
}

function result(text, kind) {
  show('result', true);
  const el = $('result-text');
  el.textContent = text;
  el.className = 'status ' + (kind || '');
}

async function api(path, options = {}) {
  const t = tokens();
  const headers = Object.assign({}, options.headers || {});
  if (t) headers.Authorization = 'Bearer ' + t.access_token;
  let res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401 && t && t.refresh_token && !options.retried) {
    const r = await fetch('/api/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: t.refresh_token }) });
    if (r.ok) {
      sessionStorage.setItem('faceprint.tokens', JSON.stringify(await r.json()));
      return api(path, Object.assign({}, options, { retried: true }));
    }
    sessionStorage.removeItem('faceprint.tokens');
  }
  return res;
}

let run = null; // the camera run in progress

async function startCamera(kind) {
  if (run) return;
  show('result', false);
  show('camera', true);
  $('camera-title').textContent = kind === 'signup' ? 'Sign up: look at the camera, then turn your head a little' : 'Log in: look at the camera';
  $('progress').value = 0;
  $('detail').textContent = '';
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    status('No camera: ' + e.message, 'bad');
    return;
  }
  const video = $('video');
  video.srcObject = stream;
  await video.play();
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/face');
  const canvas = document.createElement('canvas');
  run = { ws, stream, waiting: false, timer: null, done: false };
  const stop = (why, kind) => {
    if (!run) return;
    clearInterval(run.timer);
    run.stream.getTracks().forEach((t) => t.stop());
    if (run.ws.readyState === WebSocket.OPEN) run.ws.close();
    run = null;
    show('camera', false);
    if (why) result(why, kind);
  };
  $('stop').onclick = () => {
    if (run && run.ws.readyState === WebSocket.OPEN) run.ws.send(JSON.stringify({ type: 'cancel' }));
    stop('Cancelled.', '');
  };
  const sendFrame = () => {
    if (!run || run.waiting || ws.readyState !== WebSocket.OPEN || !video.videoWidth) return;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    run.waiting = true; // one frame in flight: the server drops extra ones anyway
    ws.send(JSON.stringify({ type: 'process_frame', image: canvas.toDataURL('image/jpeg', 0.92), timestamp_ms: Date.now() }));
  };
  ws.onopen = () => {
    status('Connecting…');
    if (kind === 'signup') ws.send(JSON.stringify({ type: 'start_enrollment', name: $('name').value, email: $('email').value }));
    else ws.send(JSON.stringify({ type: 'start_authentication', email: $('email').value || null }));
  };
  ws.onerror = () => stop('The connection failed.', 'bad');
  ws.onclose = () => { if (run) stop('The connection closed.', 'bad'); };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (run) run.waiting = false;
    switch (m.type) {
      case 'session_started':
        status(m.instruction || 'Hold still and look at the camera');
        run.timer = setInterval(sendFrame, FRAME_INTERVAL_MS);
        break;
      case 'enrollment_progress':
        $('progress').value = m.completed_samples / m.target_samples;
        status(m.message || (m.accepted ? 'Got it — now turn your head slightly' : 'Hold still'), m.accepted ? 'ok' : '');
        $('detail').textContent = m.obstacles && m.obstacles.length ? 'Why not yet: ' + m.obstacles.join(', ') : '';
        if (m.status === 'failed') stop('Sign-up failed: ' + m.message, 'bad');
        break;
      case 'enrollment_complete':
        sessionStorage.setItem('faceprint.tokens', JSON.stringify(m.tokens));
        stop('Welcome, ' + m.user.name + '! Your face is enrolled.', 'ok');
        loadProfile();
        break;
      case 'liveness_instruction':
        $('progress').value = m.total ? m.completed / m.total : (m.frames_used || 0) / (m.max_frames || 1);
        status(m.instruction || m.message || 'Look at the camera');
        $('detail').textContent = m.obstacles && m.obstacles.length ? 'Why not yet: ' + m.obstacles.join(', ') : '';
        if (m.status === 'failed') stop('Liveness check failed: ' + m.message, 'bad');
        break;
      case 'authentication_result':
        if (m.status === 'authenticated' && m.tokens) {
          sessionStorage.setItem('faceprint.tokens', JSON.stringify(m.tokens));
          stop('Logged in as ' + m.user.name + '.', 'ok');
          loadProfile();
        } else {
          stop(m.status === 'failed' ? 'Login refused: ' + m.message : 'Login refused: your face did not match an account.', 'bad');
        }
        break;
      case 'frame_dropped':
        break;
      case 'error':
        stop(m.message || m.error, 'bad');
        break;
    }
  };
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '—';
}

function row(tbody, cells, extra) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c == null ? '' : String(c);
    tr.append(td);
  }
  if (extra) {
    const td = document.createElement('td');
    td.append(extra);
    tr.append(td);
  }
  tbody.append(tr);
}

async function loadProfile() {
  if (!tokens()) {
    show('profile', false);
    show('start', true);
    $('who').textContent = '';
    return;
  }
  const me = await api('/api/me');
  if (!me.ok) {
    sessionStorage.removeItem('faceprint.tokens');
    return loadProfile();
  }
  const user = await me.json();
  $('who').textContent = user.name;
  $('profile-text').textContent = `${user.name} · ${user.email} · ${user.faces} face(s) enrolled · member since ${when(user.created_ms)}`;
  show('profile', true);
  show('start', false);
  const sessions = await (await api('/api/me/sessions')).json();
  const sbody = $('sessions').querySelector('tbody');
  sbody.textContent = '';
  for (const s of sessions) {
    let btn = null;
    if (!s.current) {
      btn = document.createElement('button');
      btn.className = 'secondary';
      btn.textContent = 'End';
      btn.onclick = async () => { await api('/api/me/sessions/' + s.id, { method: 'DELETE' }); loadProfile(); };
    }
    row(sbody, [when(s.created_ms), when(s.last_used_ms), (s.user_agent || '').slice(0, 40) + (s.current ? ' (this one)' : '')], btn);
  }
  const history = await (await api('/api/me/history?limit=20')).json();
  const hbody = $('history').querySelector('tbody');
  hbody.textContent = '';
  for (const e of history) row(hbody, [when(e.at_ms), e.action, e.outcome, e.score == null ? '' : e.score.toFixed(3), e.reason || '']);
}

$('signup').onclick = () => {
  if (!$('name').value.trim() || !$('email').value.trim()) return result('Name and email are needed to sign up.', 'bad');
  startCamera('signup');
};
$('login').onclick = () => startCamera('login');
$('logout').onclick = async () => {
  await api('/api/auth/logout', { method: 'POST' });
  sessionStorage.removeItem('faceprint.tokens');
  result('Logged out.', '');
  loadProfile();
};
$('revoke-others').onclick = async () => {
  await api('/api/me/sessions/revoke-others', { method: 'POST' });
  loadProfile();
};
loadProfile();
