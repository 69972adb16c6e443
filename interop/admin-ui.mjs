#!/usr/bin/env node
// Browser test of the Socket.IO Admin UI (npm @socket.io/admin-ui's ui/dist, served by the Go
// server under test) against a Go server instrumented with package admin: Debian's headless
// Chromium, driven by npm playwright-core, logs in through the UI's connection form, sees the
// server's sockets and rooms, disconnects one socket from the UI, and is still logged in after a
// reload (the session id the server sent after the CONNECT reply).
//
// usage: node interop/admin-ui.mjs <ui-url> <server-url> <websocket|polling|default> <user> <password>
//                                  <socket-to-keep> <socket-to-disconnect> <room>
//
//   ui-url      where the UI is served, without its trailing slash (the server must redirect)
//   server-url  what is typed as the UI's "Server URL"
//   mode        websocket: the form's "WebSocket only?" switched on; polling: switched off, and the
//               page has no WebSocket (the UI's client stays on HTTP long-polling); default:
//               switched off (polling, then the upgrade)
//   SCREENSHOT=<file.png>  also writes a screenshot of the Sockets page.
//
// The page's web font and icons come from public CDNs; those requests are refused at once.
//
// Steps, each reported as {"ev":"step","name":...,"ms":...} once it passed:
//   redirect, login, session, sockets, rooms, disconnect, reload
// stdout: JSON lines: step, console/pageerror, result {session, transports, requests:{polling,websocket},
//   blocked}, error {message, step, page}.
// exit: 0 success, 1 failure, 2 Chromium missing, 3 playwright-core missing, 64 bad usage.

import { accessSync, constants } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STEP_TIMEOUT = 15000;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const [uiURL, serverURL, mode, user, password, keepID, dropID, room] = process.argv.slice(2);
if (!room || !['websocket', 'polling', 'default'].includes(mode)) {
  process.stderr.write(
    'usage: node interop/admin-ui.mjs <ui-url> <server-url> <websocket|polling|default> <user> <password> <keep-id> <drop-id> <room>\n',
  );
  process.exit(64);
}

try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  process.stderr.write(`admin-ui.mjs: ${CHROMIUM} not found or not executable; install Debian's chromium: apt-get install -y chromium\n`);
  process.exit(2);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  process.stderr.write(`admin-ui.mjs: cannot load playwright-core (run \`npm ci\` in interop/): ${err.message}\n`);
  process.exit(3);
}

const watchdog = setTimeout(() => {
  out({ ev: 'error', message: 'watchdog: the test took more than 90 s' });
  process.exit(1);
}, 90000);
watchdog.unref();

const CDN = /^https?:\/\/(fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net)\//;

let browser;
let page;
let code = 1;
const t0 = Date.now();
let current = 'launch';
const step = async (name, fn) => {
  current = name;
  await fn();
  out({ ev: 'step', name, ms: Date.now() - t0 });
};

// socketRow is the row of the Sockets table whose first cell is the socket id (the socket's own
// page, which may still be leaving, has its id in a second cell).
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const socketRow = (id) =>
  page.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^\\s*${escape(id)}\\s*$`) }) });

// connectedChip is the app bar's connection status once it reads "connected" (the bar has a copy
// for small screens, hidden).
const connectedChip = () => page.locator('header').getByText('connected', { exact: true }).filter({ visible: true });

const gotoView = async (hash) => {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
};

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run'],
    timeout: STEP_TIMEOUT,
  });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', colorScheme: 'light' });
  let blocked = 0;
  await ctx.route(CDN, (route) => {
    blocked++;
    return route.abort('blockedbyclient');
  });
  if (mode === 'polling') {
    await ctx.addInitScript(() => {
      delete window.WebSocket;
      window.WebSocket = undefined;
      delete window.WebTransport;
      window.WebTransport = undefined;
    });
  }
  const requests = { polling: 0, websocket: 0 };
  ctx.on('request', (req) => {
    if (req.url().includes('/socket.io/') && req.url().includes('transport=polling')) requests.polling++;
  });
  page = await ctx.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('websocket', (ws) => {
    if (ws.url().includes('/socket.io/')) requests.websocket++;
  });
  page.on('console', (msg) => {
    if (msg.text().includes('ERR_BLOCKED_BY_CLIENT')) return; // the CDNs, refused on purpose
    if (msg.type() === 'error' || msg.type() === 'warning') out({ ev: 'console', type: msg.type(), text: msg.text() });
  });
  page.on('pageerror', (err) => out({ ev: 'pageerror', text: String(err?.message ?? err) }));

  await step('redirect', async () => {
    const res = await page.goto(uiURL, { waitUntil: 'domcontentloaded' });
    if (!page.url().endsWith('/')) throw new Error(`the UI was not redirected to its slash-terminated URL: ${page.url()}`);
    if (!res || !res.ok()) throw new Error(`the UI page answered ${res && res.status()}`);
  });

  await step('login', async () => {
    const dialog = page.locator('.v-dialog--active');
    await dialog.waitFor();
    await dialog.getByLabel('Server URL').fill(serverURL);
    await dialog.getByLabel('Username').fill(user);
    await dialog.getByLabel('Password').fill(password);
    if (mode === 'websocket') {
      await dialog.locator('label', { hasText: 'Advanced options' }).click();
      await dialog.locator('label', { hasText: 'WebSocket only?' }).click();
      const on = await dialog.getByLabel('WebSocket only?').getAttribute('aria-checked');
      if (on !== 'true') throw new Error('the "WebSocket only?" switch did not turn on');
    }
    await dialog.getByRole('button', { name: 'Connect' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await connectedChip().waitFor();
  });

  let session = '';
  await step('session', async () => {
    await page.waitForFunction(() => /^[0-9a-f]{16}$/.test(localStorage.getItem('session_id') || ''));
    session = await page.evaluate(() => localStorage.getItem('session_id'));
  });

  await step('sockets', async () => {
    await gotoView('#/sockets/');
    await socketRow(keepID).waitFor();
    await socketRow(dropID).waitFor();
  });

  await step('rooms', async () => {
    await gotoView('#/rooms/');
    await page.locator('tbody tr', { hasText: room }).first().waitFor();
  });

  await gotoView('#/sockets/');
  await socketRow(dropID).waitFor();
  if (process.env.SCREENSHOT) {
    await page.waitForTimeout(300); // the table's transition
    await page.screenshot({ path: process.env.SCREENSHOT });
  }

  await step('disconnect', async () => {
    await socketRow(dropID).locator('button').click();
    // The click on the row also opens the socket's page; the list is where the socket must go.
    await gotoView('#/sockets/');
    await socketRow(dropID).waitFor({ state: 'detached' });
    await socketRow(keepID).waitFor();
  });

  await step('reload', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await connectedChip().waitFor();
    if (await page.locator('.v-dialog--active').isVisible()) throw new Error('the UI asked for the password again after a reload');
    await gotoView('#/sockets/');
    await socketRow(keepID).waitFor();
  });

  const transports = await page.evaluate(() => ({ wsOnly: localStorage.getItem('ws_only') }));
  out({ ev: 'result', session, transports, requests, blocked });
  code = 0;
} catch (err) {
  let text = null;
  try {
    text = page ? (await page.locator('body').innerText()).slice(0, 2000) : null;
  } catch {}
  out({ ev: 'error', message: String(err?.message ?? err), step: current, page: text });
} finally {
  if (browser) await browser.close().catch(() => {});
  process.exit(code);
}
