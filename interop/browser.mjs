#!/usr/bin/env node
// Real-browser interop check: Debian's headless Chromium (driven by npm playwright-core) opens the
// echo example's page (examples/echo/frontend, built and served by the Go server) and waits until
// the page shows the server's answer to the seed's 'mensaje' in #respuesta.
//
// usage: node interop/browser.mjs <url> [timeout_ms=15000] [polling|websocket]
//
//   polling  removes window.WebSocket (and WebTransport) before any page script runs, so
//            socket.io-client cannot upgrade and the whole exchange uses HTTP long-polling.
//            Any WebSocket the page opens anyway is reported as a failure.
//   websocket  after the answer, also waits (same deadline) until #estado shows the
//            connection upgraded from polling to '(websocket)'.
//   (none)   default socket.io-client behaviour; #estado is reported as it is.
//
// stdout: one JSON object per line:
//   {"ev":"console","type":"log","text":...}   page console messages
//   {"ev":"pageerror","text":...}               uncaught page exceptions
//   {"ev":"requestfailed","url":...,"error":...}
//   {"ev":"websocket","url":...}                a WebSocket opened by the page
//   {"ev":"respuesta","text":...}               #respuesta once it starts with the expected answer
//   {"ev":"estado","text":...}                  #estado: 'conectado: <id> (<polling|websocket>)'
//   {"ev":"vista","conexion":...,"transporte":...,"mejora":...,"historial":[{"dir","event","text"}]}
//                                               the echo page's status pill (data-state), transport
//                                               badge, upgrade note and message log, when it has them
//   {"ev":"error","message":...,"estado":...,"respuesta":...}   on failure
// SCREENSHOT=<file.png> saves a screenshot of the page once the checks passed.
// exit: 0 success, 1 failure (timeout, websocket in polling mode, no upgrade in websocket mode),
//       2 Chromium missing,
//       3 playwright-core not installed (run `npm install` in interop/), 64 bad usage.

import { accessSync, constants } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EXPECTED_PREFIX = 'Hola, recibí tu mensaje:';

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const [url, timeoutArg, modeArg] = process.argv.slice(2);
if (!url || (modeArg !== undefined && modeArg !== 'polling' && modeArg !== 'websocket')) {
  process.stderr.write('usage: node interop/browser.mjs <url> [timeout_ms=15000] [polling|websocket]\n');
  process.exit(64);
}
const timeout = timeoutArg ? Number(timeoutArg) : 15000;
if (!Number.isFinite(timeout) || timeout <= 0) {
  process.stderr.write(`browser.mjs: bad timeout ${JSON.stringify(timeoutArg)}\n`);
  process.exit(64);
}
const pollingOnly = modeArg === 'polling';
const needUpgrade = modeArg === 'websocket';

try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  process.stderr.write(
    `browser.mjs: ${CHROMIUM} not found or not executable; install Debian's chromium: apt-get install -y chromium\n`,
  );
  process.exit(2);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  process.stderr.write(`browser.mjs: cannot load playwright-core (run \`npm install\` in interop/): ${err.message}\n`);
  process.exit(3);
}

// Last resort if the browser itself hangs: never outlive the timeout by much.
const watchdog = setTimeout(() => {
  out({ ev: 'error', message: `watchdog: no result after ${timeout + 15000} ms` });
  process.exit(1);
}, timeout + 15000);
watchdog.unref();

let browser;
let code = 1;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      // HOST_RULES lets a test serve the page where the seed's hard-coded
      // URL points (http://localhost:3000) while the server listens on a
      // free port: e.g. "MAP localhost:3000 127.0.0.1:41234".
      ...(process.env.HOST_RULES ? [`--host-resolver-rules=${process.env.HOST_RULES}`] : []),
    ],
    timeout,
  });
  // A screenshot is taken at a width that shows the page as a reader would see it.
  const page = await browser.newPage(process.env.SCREENSHOT ? { viewport: { width: 760, height: 520 } } : {});

  let wsViolation = null;
  page.on('console', (msg) => out({ ev: 'console', type: msg.type(), text: msg.text() }));
  page.on('pageerror', (err) => out({ ev: 'pageerror', text: String(err && err.message ? err.message : err) }));
  page.on('requestfailed', (req) =>
    out({ ev: 'requestfailed', url: req.url(), error: req.failure() ? req.failure().errorText : '' }),
  );
  page.on('websocket', (ws) => {
    out({ ev: 'websocket', url: ws.url() });
    if (pollingOnly && !wsViolation) wsViolation = ws.url();
  });

  if (pollingOnly) {
    // Runs before the page's own scripts: socket.io-client then finds no WebSocket constructor,
    // its upgrade probe fails, and it stays on HTTP long-polling. The seed code is untouched.
    await page.addInitScript(() => {
      delete window.WebSocket;
      window.WebSocket = undefined;
      delete window.WebTransport;
      window.WebTransport = undefined;
    });
  }

  const deadline = Date.now() + timeout;
  const left = () => Math.max(1, deadline - Date.now());

  const text = async (sel) => {
    try {
      return await page.locator(sel).textContent({ timeout: 1000 });
    } catch {
      return null;
    }
  };

  try {
    await page.goto(url, { timeout: left(), waitUntil: 'domcontentloaded' });
    await page.waitForFunction(
      (prefix) => {
        const el = document.getElementById('respuesta');
        return !!el && (el.textContent || '').trim().startsWith(prefix);
      },
      EXPECTED_PREFIX,
      { timeout: left(), polling: 50 },
    );
    out({ ev: 'respuesta', text: ((await text('#respuesta')) ?? '').trim() });
    let upgradeErr = null;
    if (needUpgrade) {
      try {
        await page.waitForFunction(
          () =>
            (document.getElementById('estado')?.textContent || '').includes('(websocket)') &&
            // the echo page's transport badge, when the page has one, follows the upgrade too
            ['websocket', undefined].includes(document.getElementById('transporte')?.textContent),
          null,
          { timeout: left(), polling: 50 },
        );
      } catch (err) {
        upgradeErr = String(err && err.message ? err.message : err).split('\n')[0];
      }
    }
    // #estado and the echo page's view are read in one evaluate: one snapshot,
    // so an upgrade landing between two reads cannot make them disagree.
    const { estado, vista } = await page.evaluate(() => {
      const estado = (document.getElementById('estado')?.textContent ?? '').trim();
      const badge = document.getElementById('transporte');
      if (!badge) return { estado, vista: null };
      return { estado, vista: {
        conexion: document.getElementById('conexion')?.dataset.state ?? null,
        transporte: badge.textContent,
        mejora: document.getElementById('mejora')?.textContent ?? null,
        historial: [...document.querySelectorAll('#historial li')].map((li) => ({
          dir: li.className,
          event: li.dataset.event,
          text: li.querySelector('.texto')?.textContent,
        })),
      } };
    });
    out({ ev: 'estado', text: estado });
    if (vista) out({ ev: 'vista', ...vista });
    if (process.env.SCREENSHOT && !upgradeErr && !wsViolation) await page.screenshot({ path: process.env.SCREENSHOT });
    if (upgradeErr) {
      out({ ev: 'error', message: `websocket mode but the connection did not upgrade: ${upgradeErr}` });
    } else if (wsViolation) {
      out({ ev: 'error', message: `polling mode but the page opened a WebSocket: ${wsViolation}` });
    } else {
      code = 0;
    }
  } catch (err) {
    out({
      ev: 'error',
      message: String(err && err.message ? err.message : err).split('\n')[0],
      estado: await text('#estado'),
      respuesta: await text('#respuesta'),
    });
  }
} catch (err) {
  out({ ev: 'error', message: String(err && err.message ? err.message : err).split('\n')[0] });
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
