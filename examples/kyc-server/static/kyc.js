// The user's page: an account with a password, then one verification — the document (one or
// two pages), a selfie from the camera, the decision. Tokens in sessionStorage. No framework;
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
  say('selfie-status', 'Look at the camera, then take the selfie.');
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
    stream.getTracks().forEach((t) => t.stop());
    $('take-selfie').disabled = true;
  } catch (e) {
    say('selfie-status', e.message, 'bad');
  }
}

$('register').onclick = () => signIn('/api/auth/register');
$('login').onclick = () => signIn('/api/auth/login');
$('send-document').onclick = sendDocument;
$('camera-on').onclick = cameraOn;
$('take-selfie').onclick = takeSelfie;
$('new-case').onclick = async () => {
  sessionStorage.removeItem(CASE);
  say('document-status', '');
  render(await currentCase());
};
ready();
