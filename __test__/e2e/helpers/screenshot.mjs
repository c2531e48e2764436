// Screenshots a page in Debian's headless Chromium; a local proxy adds the auth header the browser cannot send by itself.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname } from 'node:path';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export async function screenshot(targetUrl, headers, file, { width = 1100, height = 760 } = {}) {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const proxy = createServer(async (req, res) => {
    const upstream = await fetch(targetUrl, { headers: { ...headers, accept: req.headers.accept ?? 'text/html' } });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
    res.end(await upstream.text());
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  mkdirSync(dirname(file), { recursive: true });
  try {
    const url = `http://127.0.0.1:${proxy.address().port}/`;
    const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--window-size=${width},${height}`, `--screenshot=${file}`, url];
    await new Promise((resolve, reject) => execFile(CHROMIUM, args, { timeout: 60_000 }, (e, _out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve())));
  } finally {
    proxy.close();
  }
  return statSync(file).size;
}
