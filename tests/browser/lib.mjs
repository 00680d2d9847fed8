// What the servers' browser tests share: a free loopback port, a camera video made from photos,
// and Debian's Chromium (through playwright-core, which downloads nothing) with a fake camera
// fed by that .y4m file.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

// A fresh headless Chromium profile under `work`; `camera` (a .y4m) is its webcam when given.
export async function launch(work, camera) {
  const profile = mkdtempSync(join(work, 'profile-'));
  const fake = camera
    ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`]
    : [];
  return chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      ...fake,
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}

// A 640x480, 10 fps .y4m under `work` showing each photo for `seconds`; `fit` is the ffmpeg
// filter that brings a photo to 640x480 (the default stretches it).
export function video(work, name, photos, { fit = 'scale=640:480', seconds = 1 } = {}) {
  const out = join(work, name + '.y4m');
  const inputs = photos.flatMap((p) => ['-loop', '1', '-t', String(seconds), '-i', p]);
  const chains = photos.map((_, i) => `[${i}]${fit},setsar=1,fps=10,format=yuv420p[v${i}]`);
  const filter = chains.join(';') + ';' + photos.map((_, i) => `[v${i}]`).join('') + `concat=n=${photos.length}:v=1:a=0[out]`;
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...inputs, '-filter_complex', filter, '-map', '[out]', '-pix_fmt', 'yuv420p', out]);
  return out;
}
