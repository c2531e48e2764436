// Preloaded into every Node process of `npm test` (NODE_OPTIONS=--require, set by scripts/test.sh): copies what the
// process writes to stdout/stderr, and the bodies of HTTP responses it fetches from this machine, to $KL_CAPTURE_DIR.
//
// Why a preload: the e2e tests keep n8n's output in memory (scripts/n8n/n8n-instance.mjs) and read health JSON,
// status pages and /metrics with fetch(); this way everything n8n, its CLI runs, the package's CLI and the tests
// themselves print or receive is on disk for scripts/check-secrets.mjs, whether a test showed it or not.
'use strict';

const dir = process.env.KL_CAPTURE_DIR;
if (dir) {
  const fs = require('node:fs');
  const path = require('node:path');
  const name = `${process.pid}-${path.basename(process.argv[1] || 'node').replace(/[^\w.-]/g, '_')}.log`;
  let fd;
  /** Appends synchronously (the process may be SIGKILLed next); opened on first use, so silent processes leave no file. */
  const record = (chunk, encoding) => {
    try {
      if (fd === undefined) {
        fs.mkdirSync(dir, { recursive: true });
        fd = fs.openSync(path.join(dir, name), 'a');
      }
      fs.writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk);
    } catch {
      /* capturing must never break the process under test */
    }
  };

  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = function (chunk, encoding, callback) {
      record(chunk, encoding);
      return write.call(this, chunk, encoding, callback);
    };
  }

  const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/;
  const TEXT = /json|text|html|xml|javascript/;
  const fetch = globalThis.fetch;
  if (typeof fetch === 'function') {
    globalThis.fetch = async function (...args) {
      const res = await fetch.apply(this, args);
      if (LOCAL.test(res.url) && TEXT.test(res.headers.get('content-type') ?? 'text')) {
        res.clone().text().then((body) => record(`\n[fetch ${res.status} ${res.url}]\n${body}\n`), () => {});
      }
      return res;
    };
  }
}
