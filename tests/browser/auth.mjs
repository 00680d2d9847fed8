// End-to-end test of the face-login page in real headless Chromium (Debian's, through
// playwright-core), with Chromium's fake camera fed by .y4m videos that ffmpeg makes from real
// photos: sign up by camera, log out, log in by face, a different person refused, the admin
// page's statistics. Screenshots go to target/screenshots/auth/.
//
//   node tests/browser/auth.mjs [path/to/faceprint-auth]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { freePort, launch, video } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.argv[2] || join(root, 'target/x86_64-unknown-linux-gnu/release/faceprint-auth');
const lfw = resolve(root, '../shared/data/lfw/images');
const shots = join(root, 'target/screenshots/auth');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'faceprint-browser-'));
const data = join(work, 'data');

// Waits until #result-text contains `text`; on timeout, says what the page was showing.
async function waitResult(page, text) {
  try {
    await page.waitForFunction((t) => document.getElementById('result-text').textContent.includes(t), text, { timeout: 30_000 });
  } catch (e) {
    const seen = await page.evaluate(() => ['instruction', 'detail', 'result-text'].map((id) => id + ': ' + document.getElementById(id).textContent).join(' | '));
    throw new Error(`waiting for "${text}": ${seen}`);
  }
}

const powell = ['0001', '0003', '0008', '0009'].map((n) => join(lfw, `Colin_Powell/Colin_Powell_${n}.jpg`));
const bush = ['0004', '0005', '0007'].map((n) => join(lfw, `George_W_Bush/George_W_Bush_${n}.jpg`));
// Each photo fills the frame for a second (a border around it reads as a printed photo to
// passive liveness).
const camA = video(work, 'powell', powell, { fit: 'scale=640:640,crop=640:480' });
const camB = video(work, 'bush', bush, { fit: 'scale=640:640,crop=640:480' });

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
execFileSync(bin, ['admin', 'create', '--data', data, '--username', 'root'], { input: 'browser test admin password\n' });
const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });
const failed = (e) => { console.error(e); console.error(serverLog.split('\n').filter((l) => /WARN|ERROR/.test(l)).slice(-20).join('\n')); };

try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/health/ready')).ok) break; } catch {}
    assert.ok(i < 300, 'the server did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  // Person A: sign up by camera, log out, log in by face.
  let ctx = await launch(work, camA);
  let page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => { throw e; });
  await page.goto(base + '/');
  await page.fill('#name', 'Colin Powell');
  await page.fill('#email', 'colin@example.com');
  await page.click('#signup');
  await page.waitForSelector('#camera:not(.hidden)');
  await page.screenshot({ path: join(shots, '1-signup-camera.png') });
  await waitResult(page, 'Welcome');
  await page.waitForSelector('#profile:not(.hidden)');
  await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length > 0);
  assert.match(await page.textContent('#profile-text'), /colin@example\.com/);
  await page.screenshot({ path: join(shots, '2-signed-up-profile.png'), fullPage: true });
  await page.click('#logout');
  await page.waitForSelector('#start:not(.hidden)');
  await page.click('#login');
  await waitResult(page, 'Logged in as Colin Powell');
  await page.waitForSelector('#profile:not(.hidden)');
  await page.screenshot({ path: join(shots, '3-logged-in-by-face.png'), fullPage: true });
  await ctx.close();

  // Person B: refused.
  ctx = await launch(work, camB);
  page = ctx.pages()[0] || (await ctx.newPage());
  await page.goto(base + '/');
  await page.click('#login');
  await waitResult(page, 'refused');
  assert.ok(await page.isHidden('#profile'));
  await page.screenshot({ path: join(shots, '4-other-person-refused.png'), fullPage: true });

  // The admin page shows the statistics.
  await page.goto(base + '/admin');
  await page.fill('#username', 'root');
  await page.fill('#password', 'browser test admin password');
  await page.click('#login');
  await page.waitForSelector('[data-stat="Users"]');
  assert.equal((await page.textContent('[data-stat="Users"] b')).trim(), '1');
  assert.ok(Number(await page.textContent('[data-stat="Failed logins"] b')) >= 1);
  // Refused because the face matched nobody, not because it looked like a photo.
  assert.match(await page.textContent('#reasons tbody'), /no_match/);
  await page.waitForFunction(() => document.querySelectorAll('#users tbody tr').length === 1);
  await page.screenshot({ path: join(shots, '5-admin-stats.png'), fullPage: true });
  await ctx.close();
  console.log(`browser test passed; screenshots in ${shots}`);
} catch (e) {
  failed(e);
  process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
