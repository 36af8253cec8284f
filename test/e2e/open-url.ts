// A `BROWSER` command for the tests: instead of showing the URL it is given, hands it to the
// test process (which drives a real Chromium there) at SIGNET_E2E_URL_SINK.
const [url] = process.argv.slice(2);
const sink = process.env.SIGNET_E2E_URL_SINK;
if (!url || !sink) {
  console.error('usage: SIGNET_E2E_URL_SINK=http://... open-url.ts URL');
  process.exit(2);
}
await fetch(sink, { method: 'POST', body: url });
