#!/usr/bin/env node
// Makes sure a system Chromium exists for the browser tests. Tools never
// download their own browser here: we use Debian's package. When it is
// missing and we are root on a Debian-like system, it installs it; otherwise
// it fails with a clear message rather than letting a test be skipped.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
if (candidates.some((p) => existsSync(p))) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && existsSync('/usr/bin/apt-get')) {
  console.log('[ensure-chromium] installing Debian chromium (apt-get)…');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  process.exit(0);
}
console.error('[ensure-chromium] No Chromium found. Install it (Debian: `sudo apt-get install chromium`) or set CHROMIUM_PATH.');
process.exit(1);
