// The user's page: an account with a password, then one verification — the document (one or
// two pages), a selfie from the camera (one photo, or liveness challenges over the WebSocket
// whose most frontal frame is the selfie), the decision. Tokens in sessionStorage. No framework;
// the helpers are page.js's.
'use strict';
const TOKENS = 'faceprint.kyc.tokens';
const CASE = 'faceprint.kyc.case';
const api = (path, options) => authorized(TOKENS, path, options);

async function signIn(path) {
  say('account-status', 'Signing in…');
  try {
    const body = await answer(await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('username').value.trim(), password: $('password').value }),
    }));
    sessionStorage.setItem(TOKENS, JSON.stringify(body));
    await ready();
  } catch (e) {
    say('account-status', e.message, 'bad');
  }
}

async function currentCase() {
  const saved = sessionStorage.getItem(CASE);
  if (saved) {
    const res = await api('/api/verifications/' + saved);
    if (res.ok) return res.json();
  }
  const created = await answer(await api('/api/verifications', { method: 'POST' }));
  sessionStorage.setItem(CASE, created.id);
  return created;
}

const REASONS = {
  mrz_check_failed: 'the document\'s machine-readable zone fails its check digits',
  document_expired: 'the document has expired',
  spoof_suspected: 'the selfie does not look like a live person',
  face_mismatch: 'the selfie does not match the document\'s photo',
  face_match_uncertain: 'the match with the document\'s photo is uncertain',
  visual_zone_mismatch: 'the printed names or dates differ from the machine-readable zone',
  no_mrz: 'no machine-readable zone was found',
  mrz_unreadable: 'the machine-readable zone could not be read',
  expiry_unknown: 'the expiry date could not be read',
  face_not_compared: 'no face could be compared with the document\'s photo',
};

function render(v) {
  const rows = [
    ['Document', v.steps.document],
    ['Liveness', v.steps.liveness],
    ['Face match', v.steps.face_match],
  ];
  const tbody = $('steps').querySelector('tbody');
  tbody.replaceChildren(...rows.map(([name, s]) => {
    const tr = document.createElement('tr');
    for (const text of [name, s.status, s.score == null ? '' : s.score.toFixed(3)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
  const why = v.reasons.map((r) => REASONS[r] || r).join('; ');
  const texts = {
    in_progress: ['In progress: ' + v.steps_done + ' of ' + v.steps_total + ' steps done.', ''],
    approved: ['Approved: your identity is verified.', 'ok'],
    rejected: ['Rejected: ' + why + '.', 'bad'],
    needs_review: ['A verifier will look at your case: ' + why + '.', ''],
  };
  const [text, kind] = texts[v.status];
  say('result', text, kind);
  $('result').dataset.status = v.status;
  if (v.document && v.document.mrz) {
    const m = v.document.mrz;
    say('document-status', 'Read: ' + m.surname + ', ' + m.given_names + ' (' + m.document_number + ')' + (m.valid ? '' : ' — check digits fail'), m.valid ? 'ok' : 'bad');
  }
}

async function ready() {
  const me = await api('/api/me');
  if (!me.ok) {
    show('flow', false);
    return;
  }
  const who = await me.json();
  $('who').textContent = who.principal;
  say('account-status', 'Signed in.', 'ok');
  show('flow', true);
  render(await currentCase());
}

async function sendDocument() {
  const front = $('front').files[0];
  if (!front) return say('document-status', 'Choose a photo of the document first.', 'bad');
  const form = new FormData();
  form.append('front', front);
  if ($('back').files[0]) form.append('back', $('back').files[0]);
  say('document-status', 'Reading the document…');
  try {
    const v = await currentCase();
    render(await answer(await api('/api/verifications/' + v.id + '/document', { method: 'POST', body: form })));
  } catch (e) {
    say('document-status', e.message, 'bad');
  }
}

let stream = null;

async function cameraOn() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    return say('selfie-status', 'No camera: ' + e.message, 'bad');
  }
  $('video').srcObject = stream;
  await $('video').play();
  $('take-selfie').disabled = false;
  $('start-challenges').disabled = false;
  say('selfie-status', 'Look at the camera, then take the selfie or start the challenges.');
}

function cameraOff() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $('take-selfie').disabled = true;
  $('start-challenges').disabled = true;
}

async function takeSelfie() {
  const video = $('video');
  if (!video.videoWidth) return;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((done) => canvas.toBlob(done, 'image/jpeg', 0.92));
  const form = new FormData();
  form.append('selfie', blob, 'selfie.jpg');
  say('selfie-status', 'Checking…');
  try {
    const v = await currentCase();
    render(await answer(await api('/api/verifications/' + v.id + '/selfie', { method: 'POST', body: form })));
    say('selfie-status', 'Selfie sent.', 'ok');
    cameraOff();
  } catch (e) {
    say('selfie-status', e.message, 'bad');
  }
}

// Liveness challenges: a session started over REST, its frames sent over /ws/liveness about
// four times a second, one at a time; each answer says what to do next.
async function startChallenges() {
  let session;
  try {
    const v = await currentCase();
    session = await answer(await api('/api/verifications/' + v.id + '/liveness', { method: 'POST' }));
  } catch (e) {
    return say('selfie-status', e.message, 'bad');
  }
  $('take-selfie').disabled = true;
  $('start-challenges').disabled = true;
  say('challenge', session.instruction || '');
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/liveness');
  const run = { waiting: false, timer: null, done: false };
  const end = (text, kind) => {
    run.done = true;
    clearInterval(run.timer);
    if (ws.readyState === WebSocket.OPEN) ws.close();
    say('challenge', '');
    say('selfie-status', text, kind);
  };
  const send = () => {
    const video = $('video');
    if (run.waiting || ws.readyState !== WebSocket.OPEN || !video.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    run.waiting = true;
    ws.send(JSON.stringify({ type: 'process_frame', image: canvas.toDataURL('image/jpeg', 0.92), timestamp_ms: Date.now() }));
  };
  ws.onopen = () => ws.send(JSON.stringify({ type: 'resume', session_id: session.session_id }));
  ws.onerror = () => end('The connection failed.', 'bad');
  ws.onclose = () => { if (!run.done) end('The connection closed.', 'bad'); };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    run.waiting = false;
    switch (m.type) {
      case 'session_started':
        run.timer = setInterval(send, 250);
        break;
      case 'liveness_instruction':
        say('challenge', m.instruction ? m.instruction + ' (' + m.completed + ' of ' + m.total + ' done)' : '');
        if (m.message && m.message !== m.instruction) say('selfie-status', m.message);
        break;
      case 'liveness_result':
        if (m.verification) render(m.verification);
        if (m.status === 'passed') {
          end('Liveness confirmed.', 'ok');
          cameraOff();
        } else {
          end(m.message + ': try again.', 'bad');
          $('start-challenges').disabled = false;
          $('take-selfie').disabled = false;
        }
        break;
      case 'frame_dropped':
        break;
      case 'error':
        end(m.message, 'bad');
        break;
    }
  };
}

$('register').onclick = () => signIn('/api/auth/register');
$('login').onclick = () => signIn('/api/auth/login');
$('send-document').onclick = sendDocument;
$('camera-on').onclick = cameraOn;
$('take-selfie').onclick = takeSelfie;
$('start-challenges').onclick = startChallenges;
$('new-case').onclick = async () => {
  sessionStorage.removeItem(CASE);
  say('document-status', '');
  render(await currentCase());
};
ready();
