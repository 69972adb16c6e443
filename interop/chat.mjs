#!/usr/bin/env node
// Browser test of the chat demo (examples/chat): two pages of Debian's headless Chromium (driven by
// npm playwright-core) chat in a room, then one loses its network and comes back.
//
// usage: node interop/chat.mjs <url-a> <url-b> <control-url> <default|websocket|polling>
//
//   url-a, url-b  the chat page for Ana and for Ben. Ben's must go through a proxy that the Go
//                 test can cut: POST <control-url>/block closes Ben's connections and refuses new
//                 ones (the server sees them close), POST <control-url>/unblock lets them through.
//   mode          default: socket.io-client's own (polling, then the upgrade to WebSocket);
//                 websocket or polling: the page's ?transport= (that transport only).
//   SCREENSHOTS=<dir>  also writes chat-desktop.png, chat-phone.png, chat-reconnecting.png and
//                 chat-back.png there.
//
// Steps, each reported as {"ev":"step","name":...,"ms":...} once it passed:
//   both pages enter with a nickname and join #general; the room list counts 2, both member lists
//   show both; Ana types (Ben sees "Ana is typing…"), sends (her ticks go ✓ then ✓✓, Ben gets the
//   message, the indicator clears); Ben answers; both pages show the transport of the mode; Ben
//   starts typing and deletes his text (Ana's indicator comes and goes). Then
//   Ben goes offline (context.setOffline and the proxy cut): his banner counts reconnection
//   attempts, Ana sees him lose the connection and sends two messages, Ben writes one (queued, ◌).
//   Ben comes back: his banner says the session was recovered with 2 missed messages, they are
//   there once each, his queued message is delivered (✓✓) and reaches Ana, who sees him back.
//
// stdout: JSON lines: step, console/pageerror (page diagnostics), ticks {page,states},
//   result {missed:[...], banner, transports:{a,b}, requests:{polling,websocket}}, error {...}.
// exit: 0 success, 1 failure, 2 Chromium missing, 3 playwright-core missing, 64 bad usage.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STEP_TIMEOUT = 15000;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const [urlA, urlB, control, mode] = process.argv.slice(2);
if (!urlA || !urlB || !control || !['default', 'websocket', 'polling'].includes(mode)) {
  process.stderr.write('usage: node interop/chat.mjs <url-a> <url-b> <control-url> <default|websocket|polling>\n');
  process.exit(64);
}
const shots = process.env.SCREENSHOTS || '';

try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  process.stderr.write(`chat.mjs: ${CHROMIUM} not found or not executable; install Debian's chromium: apt-get install -y chromium\n`);
  process.exit(2);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  process.stderr.write(`chat.mjs: cannot load playwright-core (run \`npm ci\` in interop/): ${err.message}\n`);
  process.exit(3);
}

const watchdog = setTimeout(() => {
  out({ ev: 'error', message: 'watchdog: the test took more than 120 s' });
  process.exit(1);
}, 120000);
watchdog.unref();

const page = (base) => (mode === 'default' ? base : `${base}?transport=${mode}`);
const proxy = async (what) => {
  const res = await fetch(`${control}/${what}`, { method: 'POST' });
  if (!res.ok) throw new Error(`control ${what}: HTTP ${res.status}`);
};

// Records every state the tick marks of a page go through, in order, per message (data-cid).
function recordTicks() {
  window.__ticks = {};
  new MutationObserver((records) => {
    for (const r of records) {
      const t = r.target;
      if (!(t instanceof HTMLElement) || !t.classList.contains('ticks')) continue;
      const li = t.closest('li');
      const key = li?.dataset.cid;
      if (!key) continue;
      const states = (window.__ticks[key] ??= []);
      if (states.at(-1) !== t.dataset.state) states.push(t.dataset.state);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}

let browser;
let code = 1;
const t0 = Date.now();
let current = 'launch';
const step = async (name, fn) => {
  current = name;
  await fn();
  out({ ev: 'step', name, ms: Date.now() - t0 });
};

let a;
let b;
const dump = async (p) => {
  if (!p) return null;
  try {
    return await p.evaluate(() => ({
      banner: document.getElementById('banner')?.textContent,
      transport: document.getElementById('transport')?.textContent,
      members: [...document.querySelectorAll('#members li')].map((li) => li.textContent),
      typing: document.getElementById('typing')?.textContent,
      messages: [...document.querySelectorAll('#messages li')].map(
        (li) => `${li.className}|${li.dataset.from ?? ''}|${li.querySelector('.text')?.textContent ?? li.textContent}|${li.querySelector('.ticks')?.dataset.state ?? ''}`,
      ),
    }));
  } catch (err) {
    return String(err);
  }
};

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run'],
    timeout: STEP_TIMEOUT,
  });
  const ctxA = await browser.newContext({ viewport: { width: 960, height: 600 }, locale: 'en-GB', colorScheme: 'light' });
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 700 }, locale: 'en-GB', colorScheme: 'light' });
  ctxA.setDefaultTimeout(STEP_TIMEOUT);
  ctxB.setDefaultTimeout(STEP_TIMEOUT);
  a = await ctxA.newPage();
  b = await ctxB.newPage();
  const requests = { polling: 0, websocket: 0 };
  for (const [name, p] of [['a', a], ['b', b]]) {
    await p.addInitScript(recordTicks);
    p.on('console', (msg) => out({ ev: 'console', page: name, type: msg.type(), text: msg.text() }));
    p.on('pageerror', (err) => out({ ev: 'pageerror', page: name, text: String(err?.message ?? err) }));
    p.on('request', (req) => {
      if (req.url().includes('/socket.io/') && req.url().includes('transport=polling')) requests.polling++;
    });
    p.on('websocket', () => requests.websocket++);
  }

  const enter = async (p, url, nick) => {
    await p.goto(url, { waitUntil: 'domcontentloaded' });
    await p.fill('#nick', nick);
    await p.click('#login-form button');
    await p.waitForSelector('#app:not([hidden])');
    await p.waitForSelector('#banner[data-state="connected"]');
  };
  const joinRoom = async (p, room) => {
    await p.click(`button.room[data-room="${room}"]`);
    await p.waitForFunction((r) => document.getElementById('room-title')?.textContent === `#${r}`, room);
  };
  const members = (p, want) =>
    p.waitForFunction(
      (w) => JSON.stringify([...document.querySelectorAll('#members li')].map((li) => li.textContent)) === JSON.stringify(w),
      want,
    );
  // send types the text as a user would and sends it; it returns the message's cid.
  const send = async (p, text) => {
    await p.locator('#text').pressSequentially(text, { delay: 25 });
    await p.press('#text', 'Enter');
    return p.evaluate((t) => {
      const own = [...document.querySelectorAll('#messages li.own')].filter((li) => li.querySelector('.text')?.textContent === t);
      return own.at(-1)?.dataset.cid;
    }, text);
  };
  const ticks = (p, cid, state) =>
    p.waitForFunction(
      ([c, s]) => document.querySelector(`#messages li[data-cid="${c}"] .ticks`)?.dataset.state === s,
      [cid, state],
    );
  const received = (p, from, text) =>
    p.waitForFunction(
      ([f, t]) => [...document.querySelectorAll(`#messages li.msg[data-from="${f}"] .text`)].some((e) => e.textContent === t),
      [from, text],
    );
  const notice = (p, text) =>
    p.waitForFunction((t) => [...document.querySelectorAll('#messages li.notice')].some((e) => e.textContent === t), text);
  const textOf = (p, sel) => p.locator(sel).textContent();
  const wantTransport = mode === 'polling' ? 'polling' : 'websocket';

  await step('enter', async () => {
    await enter(a, page(urlA), 'Ana');
    await enter(b, page(urlB), 'Ben');
  });
  await step('join', async () => {
    await joinRoom(a, 'general');
    await joinRoom(b, 'general');
    await members(a, ['Ana', 'Ben']);
    await members(b, ['Ana', 'Ben']);
    for (const p of [a, b]) {
      await p.waitForFunction(() => document.querySelector('button.room[data-room="general"] .count')?.textContent === '2');
    }
    await notice(a, 'Ben joined');
  });
  const hello = `Hola Ben, ¿qué tal? (${mode})`;
  let helloCID;
  await step('typing', async () => {
    await a.locator('#text').pressSequentially(hello.slice(0, 8), { delay: 25 });
    await b.waitForFunction(() => document.getElementById('typing')?.textContent === 'Ana is typing…');
  });
  await step('message', async () => {
    await a.locator('#text').pressSequentially(hello.slice(8), { delay: 25 });
    await a.press('#text', 'Enter');
    helloCID = await a.evaluate(() => document.querySelector('#messages li.own:last-child')?.dataset.cid);
    await ticks(a, helloCID, 'delivered');
    if ((await textOf(a, `#messages li[data-cid="${helloCID}"] .ticks`)) !== '✓✓') throw new Error('delivered ticks are not ✓✓');
    await received(b, 'Ana', hello);
    await b.waitForFunction(() => document.getElementById('typing')?.textContent === '');
    const reply = await send(b, 'Hola Ana');
    await ticks(b, reply, 'delivered');
    await received(a, 'Ben', 'Hola Ana');
    const states = await a.evaluate((c) => window.__ticks[c], helloCID);
    out({ ev: 'ticks', page: 'a', states });
    if (JSON.stringify(states) !== JSON.stringify(['sent', 'delivered'])) throw new Error(`Ana's ticks went ${JSON.stringify(states)}`);
  });
  await step('transport', async () => {
    for (const p of [a, b]) {
      await p.waitForFunction((w) => document.getElementById('transport')?.textContent === w, wantTransport);
    }
  });
  await step('typing stops', async () => {
    // Ben starts a message: Ana sees him typing; he deletes it: the indicator goes at once.
    await b.locator('#text').pressSequentially('¿Y tú?', { delay: 25 });
    await a.waitForFunction(() => document.getElementById('typing')?.textContent === 'Ben is typing…');
    if (shots) {
      await a.screenshot({ path: join(shots, 'chat-desktop.png') });
      await b.screenshot({ path: join(shots, 'chat-phone.png') });
    }
    await b.press('#text', 'Control+A');
    await b.press('#text', 'Backspace');
    await a.waitForFunction(() => document.getElementById('typing')?.textContent === '');
  });

  await step('offline', async () => {
    await ctxB.setOffline(true);
    await proxy('block');
    await b.waitForFunction(() => {
      const m = /attempt (\d+)/.exec(document.getElementById('banner')?.textContent ?? '');
      return document.getElementById('banner')?.dataset.state === 'reconnecting' && m && Number(m[1]) >= 2;
    });
    await notice(a, 'Ben lost the connection');
    await members(a, ['Ana']);
    if ((await textOf(b, '#transport')) !== 'offline') throw new Error('the transport is still shown while offline');
  });
  const away = [`¿Sigues ahí? (${mode})`, `Te escribo mientras no estás (${mode})`];
  let queued;
  await step('send while away', async () => {
    for (const text of away) {
      const cid = await send(a, text);
      await ticks(a, cid, 'delivered');
    }
    queued = await send(b, 'Perdona, se me fue la red');
    await ticks(b, queued, 'queued');
    if ((await textOf(b, `#messages li[data-cid="${queued}"] .ticks`)) !== '◌') throw new Error('queued tick is not ◌');
  });
  if (shots) await b.screenshot({ path: join(shots, 'chat-reconnecting.png') });

  await step('back', async () => {
    await ctxB.setOffline(false);
    await proxy('unblock');
    await b.waitForSelector('#banner[data-state="back"]', { timeout: 20000 });
    const banner = await textOf(b, '#banner');
    if (banner !== 'Back online · session recovered, 2 missed messages') throw new Error(`banner after coming back: ${banner}`);
    if (shots) await b.screenshot({ path: join(shots, 'chat-back.png') });
    for (const text of away) {
      const n = await b.locator('#messages li.msg[data-from="Ana"] .text', { hasText: text }).count();
      if (n !== 1) throw new Error(`Ben has "${text}" ${n} times`);
    }
    await ticks(b, queued, 'delivered');
    await received(a, 'Ben', 'Perdona, se me fue la red');
    await notice(a, 'Ben is back');
    await members(a, ['Ana', 'Ben']);
    await members(b, ['Ana', 'Ben']);
    await b.waitForFunction((w) => document.getElementById('transport')?.textContent === w, wantTransport);
    const msgs = await b.evaluate(() => [...document.querySelectorAll('#messages li.msg .text')].map((e) => e.textContent));
    out({
      ev: 'result',
      banner,
      messages: msgs,
      missed: away,
      transports: { a: await textOf(a, '#transport'), b: await textOf(b, '#transport') },
      requests,
    });
  });
  code = 0;
} catch (err) {
  out({
    ev: 'error',
    step: current,
    message: String(err?.message ?? err).split('\n')[0],
    a: await dump(a),
    b: await dump(b),
  });
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
