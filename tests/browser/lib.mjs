// What the servers' browser tests share: a free loopback port and Debian's Chromium (through
// playwright-core, which downloads nothing) with a fake camera fed by a .y4m file.
import { chromium } from 'playwright-core';
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
