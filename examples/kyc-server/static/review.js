// The verifiers' page: staff sign-in, the queue of cases in needs_review, one case's document,
// portrait and selfie side by side with every check, and the decision with its reason.
'use strict';
const TOKENS = 'faceprint.kyc.staff';
const tokens = () => stored(TOKENS);
const api = (path, options) => authorized(TOKENS, path, options);

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.appendChild(c); else td.textContent = c;
    tr.appendChild(td);
  }
  return tr;
}

async function loadQueue() {
  const list = await answer(await api('/api/review/queue'));
  $('count').textContent = '(' + list.length + ')';
  $('queue').querySelector('tbody').replaceChildren(...list.map((v) => {
    const open = document.createElement('button');
    open.textContent = 'Open';
    open.className = 'secondary';
    open.onclick = () => openCase(v);
    return row([v.id.slice(0, 8), new Date(v.updated_ms).toLocaleString(), v.reasons.join(', '), open]);
  }));
}

async function showImage(v, kind) {
  const img = $('img-' + kind);
  img.removeAttribute('src');
  if (!v.images.includes(kind)) return;
  const res = await api('/api/verifications/' + v.id + '/images/' + kind);
  if (res.ok) img.src = URL.createObjectURL(await res.blob());
}

let current = null;

async function openCase(v) {
  current = v;
  show('case', true);
  $('case-id').textContent = v.id;
  say('case-status', '');
  await Promise.all(['document_front', 'portrait', 'selfie'].map((k) => showImage(v, k)));
  const d = v.document || {};
  const m = d.mrz;
  const checks = [
    ['Reasons', v.reasons.join(', ') || 'none'],
    ['Zone', m ? m.format + ' ' + m.document_type + ' ' + m.issuing_state + ', ' + m.surname + ', ' + m.given_names : 'not found'],
    ['Document number', m ? m.document_number : ''],
    ['Born / expires', m ? (m.birth_date || '?') + ' / ' + (m.expiry_date || '?') : ''],
    ['Check digits', m ? m.checks.map((c) => c.field + (c.valid ? ' ✓' : ' ✗')).join(', ') : ''],
    ['Printed text', (d.printed || []).map((c) => c.field + (c.found ? ' ✓' : ' ✗')).join(', ') || 'not read'],
    ['Liveness', v.steps.liveness.score == null ? '' : v.steps.liveness.score.toFixed(3) + (v.steps.liveness.passed ? ' live' : ' spoof?')],
    ['Face match', v.steps.face_match.score == null ? '' : v.steps.face_match.score.toFixed(3) + ' (threshold ' + v.steps.face_match.threshold + ')'],
  ];
  $('checks').querySelector('tbody').replaceChildren(...checks.map(row));
}

async function decide(decision) {
  if (!current) return;
  try {
    const v = await answer(await api('/api/verifications/' + current.id + '/review', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision, reason: $('note').value }),
    }));
    say('case-status', 'Case ' + v.status + '.', v.status === 'approved' ? 'ok' : 'bad');
    current = null;
    await loadQueue();
  } catch (e) {
    say('case-status', e.message, 'bad');
  }
}

async function signIn() {
  try {
    const body = await answer(await fetch('/api/auth/admin/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('username').value.trim(), password: $('password').value }),
    }));
    sessionStorage.setItem(TOKENS, JSON.stringify(body));
    await ready();
  } catch (e) {
    say('signin-status', e.message, 'bad');
  }
}

async function ready() {
  if (!tokens()) return;
  try {
    await loadQueue();
    show('queue-section', true);
    say('signin-status', 'Signed in.', 'ok');
  } catch (e) {
    say('signin-status', e.message, 'bad');
  }
}

$('login').onclick = signIn;
$('approve').onclick = () => decide('approved');
$('reject').onclick = () => decide('rejected');
ready();
