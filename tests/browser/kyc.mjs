// End-to-end test of the KYC pages in real headless Chromium (Debian's, through playwright-core),
// the selfie taken by Chromium's fake camera fed with real camera frames: a user registers,
// uploads the ICAO specimen passport, takes a selfie; the case goes to review (the server is
// told to send every mismatch to a verifier, and to check expiry as of 2010: specimens have
// expired); a verifier opens it with the document, portrait and selfie side by side and
// approves it; the user sees the decision. Then another user proves liveness by challenges
// (the server asks for one blink; the camera shows LFW's Billy_Crystal with open, then shut
// eyes), the page following the instructions over the WebSocket until the step is done.
// Screenshots go to target/screenshots/kyc/.
//
//   node tests/browser/kyc.mjs [path/to/faceprint-kyc]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { freePort, launch, video } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.argv[2] || join(root, 'target/x86_64-unknown-linux-gnu/release/faceprint-kyc');
const dev = resolve(root, '../shared/data/dev');
const shots = join(root, 'target/screenshots/kyc');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'faceprint-kyc-browser-'));
const data = join(work, 'data');
const STAFF_PASSWORD = 'browser test verifier password';

// The cameras: a person's live frames, one second each; Billy's eyes open and shut in turn.
const live = join(dev, 'spoof/live');
const frames = readdirSync(live).filter((f) => f.startsWith('0004_')).sort().map((f) => join(live, f));
const camera = video(work, 'selfie', frames);
const billy = (n) => resolve(root, `../shared/data/lfw/images/Billy_Crystal/Billy_Crystal_${n}.jpg`);
const blinking = video(work, 'blink', Array.from({ length: 12 }, (_, i) => billy(i % 2 ? '0002' : '0005')),
  { fit: 'scale=640:640,crop=640:480', seconds: 0.8 });

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
execFileSync(bin, ['admin', 'create', '--data', data, '--username', 'checker', '--role', 'verifier'], { input: STAFF_PASSWORD + '\n' });
const env = Object.assign({}, process.env, {
  FACEPRINT_APP__FIXED_TODAY: '2010-06-01',
  FACEPRINT_APP__REVIEW_MATCH_MARGIN: '1',
  FACEPRINT_APP__LIVENESS__CHALLENGES__POOL: '["blink"]',
  FACEPRINT_APP__LIVENESS__CHALLENGES__COUNT: '1',
});
const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data], { stdio: ['ignore', 'ignore', 'pipe'], env });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });

async function text(page, selector) {
  return (await page.textContent(selector)).trim();
}

try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/health/ready')).ok) break; } catch {}
    assert.ok(i < 300, 'the server did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  const ctx = await launch(work, camera);
  const user = ctx.pages()[0] || (await ctx.newPage());
  user.on('pageerror', (e) => { throw e; });
  await user.goto(base + '/');
  await user.fill('#username', 'anna@example.org');
  await user.fill('#password', 'a long user password');
  await user.click('#register');
  await user.waitForSelector('#flow:not(.hidden)');
  await user.setInputFiles('#front', join(dev, 'documents/passport-td3.jpg'));
  await user.click('#send-document');
  await user.waitForFunction(() => document.getElementById('document-status').textContent.includes('ERIKSSON'), null, { timeout: 60_000 });
  await user.screenshot({ path: join(shots, '1-document-read.png'), fullPage: true });
  await user.click('#camera-on');
  await user.waitForSelector('#take-selfie:not([disabled])');
  await user.waitForFunction(() => document.getElementById('video').videoWidth > 0);
  await user.click('#take-selfie');
  await user.waitForFunction(() => document.getElementById('result').dataset.status !== undefined && document.getElementById('result').dataset.status !== 'in_progress', null, { timeout: 60_000 });
  assert.equal(await user.getAttribute('#result', 'data-status'), 'needs_review', await text(user, '#result'));
  assert.match(await text(user, '#result'), /verifier/);
  await user.screenshot({ path: join(shots, '2-waiting-for-review.png'), fullPage: true });

  const staff = await ctx.newPage();
  staff.on('pageerror', (e) => { throw e; });
  await staff.goto(base + '/review');
  await staff.fill('#username', 'checker');
  await staff.fill('#password', STAFF_PASSWORD);
  await staff.click('#login');
  await staff.waitForFunction(() => document.querySelectorAll('#queue tbody tr').length === 1);
  await staff.click('#queue tbody tr button');
  await staff.waitForFunction(() => ['img-document_front', 'img-portrait', 'img-selfie'].every((id) => document.getElementById(id).naturalWidth > 0));
  assert.match(await text(staff, '#checks'), /ERIKSSON/);
  assert.match(await text(staff, '#checks'), /face_match_uncertain/);
  await staff.screenshot({ path: join(shots, '3-verifier-case.png'), fullPage: true });
  await staff.fill('#note', 'checked by hand: same person');
  await staff.click('#approve');
  await staff.waitForFunction(() => document.getElementById('case-status').textContent.includes('approved'));
  await staff.waitForFunction(() => document.querySelectorAll('#queue tbody tr').length === 0);
  await staff.screenshot({ path: join(shots, '4-verifier-decided.png'), fullPage: true });

  await user.reload();
  await user.waitForFunction(() => document.getElementById('result').dataset.status === 'approved');
  await user.screenshot({ path: join(shots, '5-user-approved.png'), fullPage: true });
  await ctx.close();

  // Liveness by challenges, in a browser whose camera blinks.
  const ctx2 = await launch(work, blinking);
  const billyPage = ctx2.pages()[0] || (await ctx2.newPage());
  billyPage.on('pageerror', (e) => { throw e; });
  await billyPage.goto(base + '/');
  await billyPage.fill('#username', 'billy@example.org');
  await billyPage.fill('#password', 'a long user password');
  await billyPage.click('#register');
  await billyPage.waitForSelector('#flow:not(.hidden)');
  await billyPage.setInputFiles('#front', join(dev, 'documents/passport-td3.jpg'));
  await billyPage.click('#send-document');
  await billyPage.waitForFunction(() => document.getElementById('document-status').textContent.includes('ERIKSSON'), null, { timeout: 60_000 });
  await billyPage.click('#camera-on');
  await billyPage.waitForSelector('#start-challenges:not([disabled])');
  await billyPage.waitForFunction(() => document.getElementById('video').videoWidth > 0);
  await billyPage.click('#start-challenges');
  await billyPage.waitForFunction(() => /blink/i.test(document.getElementById('challenge').textContent), null, { timeout: 20_000 });
  await billyPage.screenshot({ path: join(shots, '6-challenge-asked.png'), fullPage: true });
  await billyPage.waitForFunction(() => /Liveness confirmed|try again|failed|closed/.test(document.getElementById('selfie-status').textContent), null, { timeout: 60_000 });
  assert.equal(await text(billyPage, '#selfie-status'), 'Liveness confirmed.');
  await billyPage.waitForFunction(() => document.getElementById('result').dataset.status !== 'in_progress');
  // Billy is not the specimen's holder: the match goes to a verifier (every mismatch does here).
  assert.equal(await billyPage.getAttribute('#result', 'data-status'), 'needs_review', await text(billyPage, '#result'));
  assert.match(await text(billyPage, '#steps'), /Liveness\s*done/);
  await billyPage.screenshot({ path: join(shots, '7-challenges-passed.png'), fullPage: true });
  await ctx2.close();
  console.log(`browser test passed; screenshots in ${shots}`);
} catch (e) {
  console.error(e);
  console.error(serverLog.split('\n').filter((l) => /WARN|ERROR/.test(l)).slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
