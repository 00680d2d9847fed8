// End-to-end test of the attendance dashboard in real headless Chromium (Debian's, through
// playwright-core): an employee enrolled from two LFW photos and a camera playing a video made
// from a third; a viewer signs in, sees the camera's live MJPEG view with the employee named on
// it, today's attendance, and the employee's history. Screenshots go to
// target/screenshots/attendance/.
//
//   node tests/browser/attendance.mjs [path/to/faceprint-attendance]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { freePort, launch } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.argv[2] || join(root, 'target/x86_64-unknown-linux-gnu/release/faceprint-attendance');
const lfw = resolve(root, '../shared/data/lfw/images/Colin_Powell');
const shots = join(root, 'target/screenshots/attendance');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'faceprint-attendance-browser-'));
const data = join(work, 'data');

// A 60-second camera recording of a third photo, 640x480 at 5 fps, in the server's media root
// (app.media_root's default: media/ in the data directory; file cameras read only there).
mkdirSync(join(data, 'media'), { recursive: true });
const video = join(data, 'media', 'door.mp4');
execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-loop', '1', '-t', '60', '-i', join(lfw, 'Colin_Powell_0010.jpg'),
  '-vf', 'scale=400:400,pad=640:480:120:40:gray,format=yuv420p', '-r', '5', video]);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
execFileSync(bin, ['admin', 'create', '--data', data, '--username', 'root'], { input: 'admin password for the test\n' });
execFileSync(bin, ['admin', 'create', '--data', data, '--username', 'guard', '--role', 'viewer'], { input: 'viewer password for the test\n' });
const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });

async function call(path, token, options = {}) {
  const res = await fetch(base + path, { ...options, headers: { ...(options.headers || {}), authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json().catch(() => null) };
}
async function login(username, password) {
  const res = await fetch(base + '/api/auth/admin/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/health/ready')).ok) break; } catch {}
    assert.ok(i < 300, 'the server did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  const admin = await login('root', 'admin password for the test');
  const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const e = await call('/api/employees', admin, json({ name: 'Colin Powell', department: 'State' }));
  assert.equal(e.status, 201);
  const form = new FormData();
  for (const n of ['0001', '0003']) form.append('photo', new Blob([readFileSync(join(lfw, `Colin_Powell_${n}.jpg`))]), `${n}.jpg`);
  const enrolled = await call(`/api/employees/${e.body.id}/faces`, admin, { method: 'POST', body: form });
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  const cam = await call('/api/cameras', admin, json({ name: 'front door', kind: 'file', source: video, role: 'in', settings: { liveness: false } }));
  assert.equal(cam.status, 201, JSON.stringify(cam.body));
  // A viewer reads and changes nothing.
  const viewer = await login('guard', 'viewer password for the test');
  assert.equal((await call('/api/employees', viewer, json({ name: 'Someone' }))).status, 403);

  const ctx = await launch(work);
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (err) => { throw err; });
  await page.goto(base + '/');
  await page.fill('#username', 'guard');
  await page.fill('#password', 'viewer password for the test');
  await page.click('#login');
  await page.waitForSelector('#app:not(.hidden)');
  // The live view is an MJPEG <img>: frames arrive, and the status names who is in view.
  await page.waitForFunction(() => { const img = document.querySelector('#cameras img'); return img && img.naturalWidth === 640; }, null, { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#cameras .status').textContent.includes('in view: Colin Powell'), null, { timeout: 30_000 });
  // Let the next frames carry the name drawn beside the box.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(shots, '1-live-view.png'), fullPage: true });
  // Today's attendance counts him in.
  await page.waitForFunction(() => [...document.querySelectorAll('#today tbody tr')].some((tr) => /Colin Powell/.test(tr.textContent) && /present|late/.test(tr.textContent)), null, { timeout: 30_000 });
  assert.match(await page.textContent('#today-counts'), /^(1 present, 0 late|0 present, 1 late), 0 absent/);
  // His history.
  await page.click('#today tbody button');
  await page.waitForSelector('#history-section:not(.hidden)');
  await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 1);
  assert.match(await page.textContent('#history tbody'), /front door\s*in/);
  await page.screenshot({ path: join(shots, '2-today-and-history.png'), fullPage: true });
  // Signing out stops the stream and shows the form again.
  await page.click('#logout');
  await page.waitForSelector('#signin:not(.hidden)');
  await ctx.close();
  console.log(`attendance browser test passed; screenshots in ${shots}`);
} catch (err) {
  console.error(err);
  console.error(serverLog.split('\n').filter((l) => /WARN|ERROR/.test(l)).slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
