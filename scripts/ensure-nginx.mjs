#!/usr/bin/env node
// Makes sure an nginx binary exists for the tests' load balancer
// (scripts/lib/nginx-balancer.mjs runs it on its own configuration from a
// temp folder; the system service is never used). When it is missing and we
// are root on a Debian-like system, it installs Debian's nginx without
// letting it start its service; otherwise it fails with a clear message
// rather than letting a test be skipped.
import { aptInstall, canAptInstall, findNginx } from './lib/system-packages.mjs';

if (findNginx()) process.exit(0);

if (canAptInstall()) {
  aptInstall(['nginx'], 'ensure-nginx');
  if (findNginx()) process.exit(0);
  console.error('[ensure-nginx] apt-get installed nginx, yet neither /usr/sbin/nginx nor /usr/bin/nginx exists.');
  process.exit(1);
}
console.error('[ensure-nginx] No nginx found. Install it (Debian: `sudo apt-get install nginx`) or set NGINX_PATH.');
process.exit(1);
