// End-to-end test of the KYC pages in real headless Chromium (Debian's, through playwright-core),
// the selfie taken by Chromium's fake camera fed with real camera frames: a user registers,
// uploads the ICAO specimen passport, takes a selfie; the case goes to review (the server is
// told to send every mismatch to a verifier, and to check expiry as of 2010: specimens have
// expired); a verifier opens it with the document, portrait and selfie side by side and
// approves it; the user sees the decision. Screenshots go to target/screenshots/kyc/.
//
//   node tests/browser/kyc.mjs [path/to/faceprint-kyc]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { freePort, launch } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.argv[2] || join(root, 'target/release/faceprint-kyc');
const dev = resolve(root, '../shared/data/dev');
const shots = join(root, 'target/screenshots/kyc');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'faceprint-kyc-browser-'));
const data = join(work, 'data');
const STAFF_PASSWORD = 'browser test verifier password';

// The camera: a person's live frames, one second each, 640x480, 10 fps.
function video(name, photos) {
  const out = join(work, name + '.y4m');
  const inputs = photos.flatMap((p) => ['-loop', '1', '-t', '1', '-i', p]);
  const chains = photos.map((_, i) => `[${i}]scale=640:480,setsar=1,fps=10,format=yuv420p[v${i}]`);
  const filter = chains.join(';') + ';' + photos.map((_, i) => `[v${i}]`).join('') + `concat=n=${photos.length}:v=1:a=0[out]`;
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...inputs, '-filter_complex', filter, '-map', '[out]', '-pix_fmt', 'yuv420p', out]);
  return out;
}

const live = join(dev, 'spoof/live');
const frames = readdirSync(live).filter((f) => f.startsWith('0004_')).sort().map((f) => join(live, f));
const camera = video('selfie', frames);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
execFileSync(bin, ['admin', 'create', '--data', data, '--username', 'checker', '--role', 'verifier'], { input: STAFF_PASSWORD + '\n' });
const env = Object.assign({}, process.env, { FACEPRINT_APP__FIXED_TODAY: '2010-06-01', FACEPRINT_APP__REVIEW_MATCH_MARGIN: '1' });
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
