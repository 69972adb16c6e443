// The chat page: socket.io-client and the DOM, no framework. The events and their payloads are
// those of ../../chat.go.
import { io, Socket } from 'socket.io-client';
import './style.css';

interface Message { id: string; cid: string; room: string; from: string; text: string; ts: number }
interface RoomList { rooms: { name: string; members: number }[]; online: number }
interface Presence {
  room: string;
  members: string[];
  kind: 'joined' | 'left' | 'offline' | 'back' | 'sync';
  nick: string;
  id: string;
}
interface Typing { room: string; nick: string; id: string; typing: boolean }
interface JoinReply { room: string; members: string[]; history: Message[] }
interface PostReply { id: string; ts: number }
interface ErrorReply { error: string }

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const loginView = el('login');
const loginForm = el<HTMLFormElement>('login-form');
const nickInput = el<HTMLInputElement>('nick');
const loginError = el('login-error');
const appView = el('app');
const banner = el('banner');
const conn = el('conn');
const transportEl = el('transport');
const onlineEl = el('online');
const roomsEl = el('rooms');
const newRoomForm = el<HTMLFormElement>('new-room');
const roomNameInput = el<HTMLInputElement>('room-name');
const roomError = el('room-error');
const membersEl = el('members');
const memberCount = el('member-count');
const roomTitle = el('room-title');
const leaveButton = el<HTMLButtonElement>('leave');
const messagesEl = el('messages');
const typingEl = el('typing');
const composer = el<HTMLFormElement>('composer');
const textInput = el<HTMLInputElement>('text');
const sendButton = composer.querySelector('button') as HTMLButtonElement;

// ?transport=websocket or ?transport=polling picks one transport; by default socket.io-client
// starts with HTTP long-polling and upgrades to WebSocket.
const transportParam = new URLSearchParams(location.search).get('transport');
const transports =
  transportParam === 'websocket' ? ['websocket'] : transportParam === 'polling' ? ['polling'] : ['polling', 'websocket'];

let socket: Socket | null = null;
let nick = '';
let room = ''; // the room we are in, '' in the lobby
let everConnected = false;
let away = false; // the connection was lost and has not come back yet
let missed = 0; // messages received while coming back (replayed by the server's connection state recovery)
const shown = new Set<string>(); // server ids of the messages shown in the room

// ---- connection state -------------------------------------------------------------------------

type BannerState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'back' | 'disconnected';
let bannerTimer: number | undefined;

// setBanner shows the connection state under the header; 'connected' and 'back' fold away after
// a few seconds (the header's pill keeps showing the state).
function setBanner(state: BannerState, text: string) {
  clearTimeout(bannerTimer);
  banner.dataset.state = state;
  banner.textContent = text;
  banner.classList.remove('folded');
  conn.dataset.state = state;
  // While away, the room list and the members are the last known ones: shown dimmed.
  document.body.dataset.conn = state === 'reconnecting' || state === 'disconnected' ? 'away' : 'here';
  if (state === 'connected' || state === 'back') {
    bannerTimer = window.setTimeout(() => banner.classList.add('folded'), 5000);
  }
}

// showTransport shows the Engine.IO transport in use: 'polling', then 'websocket' after the upgrade.
function showTransport() {
  const name = socket?.connected ? socket.io.engine?.transport?.name : undefined;
  transportEl.textContent = name ?? 'offline';
}

function connect(name: string) {
  nick = name;
  setBanner('connecting', 'Connecting…');
  const s = io({ auth: { nick: name }, transports });
  socket = s;
  s.io.on('open', () => {
    showTransport();
    s.io.engine.on('upgrade', showTransport);
  });
  s.io.on('reconnect_attempt', (attempt) => {
    if (everConnected) setBanner('reconnecting', `Connection lost. Reconnecting… attempt ${attempt}`);
    else setBanner('connecting', `Connecting… attempt ${attempt + 1}`);
  });
  s.on('connect', () => void onConnect(s));
  s.on('disconnect', (reason) => {
    away = true;
    missed = 0;
    showTransport();
    clearTypists();
    requeue();
    if (s.active) {
      setBanner('reconnecting', 'Connection lost. Reconnecting…');
    } else {
      setBanner('disconnected', `Disconnected (${reason}). Reload the page to come back.`);
    }
  });
  s.on('connect_error', (err) => {
    if (!s.active) {
      // Refused by the server's middleware (the nickname): no retry.
      s.close();
      socket = null;
      setBanner('disconnected', 'Not connected');
      showLogin(err.message);
    } else if (!everConnected) {
      setBanner('connecting', `Cannot reach the server (${err.message}); retrying…`);
    }
  });
  s.on('rooms', renderRooms);
  s.on('presence', onPresence);
  s.on('message', onMessage);
  s.on('typing', onTyping);
}

async function onConnect(s: Socket) {
  showTransport();
  if (!everConnected) {
    everConnected = true;
    localStorage.setItem('nick', nick);
    loginView.hidden = true;
    appView.hidden = false;
    setBanner('connected', `Connected as ${nick}`);
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted) await join(wanted);
    return;
  }
  // Back after a lost connection. With the session recovered, the server has replayed what we
  // missed (counted in onMessage) and we are still in our room; otherwise we join it again and
  // its history fills the gap.
  let count = missed;
  if (!s.recovered && room) count += await join(room);
  away = false;
  missed = 0;
  const what = count === 0 ? 'nothing missed' : count === 1 ? '1 missed message' : `${count} missed messages`;
  setBanner('back', `Back online · ${s.recovered ? 'session recovered' : 'new session'}, ${what}`);
  flush();
}

function showLogin(error: string) {
  appView.hidden = true;
  loginView.hidden = false;
  loginError.textContent = error;
  nickInput.focus();
}

loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = nickInput.value.trim();
  if (name === '' || socket) return;
  loginError.textContent = '';
  connect(name);
});
nickInput.value = localStorage.getItem('nick') ?? '';

// ---- rooms ------------------------------------------------------------------------------------

function renderRooms(list: RoomList) {
  onlineEl.textContent = `${list.online} online`;
  roomsEl.replaceChildren(
    ...list.rooms.map((r) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = r.name === room ? 'room current' : 'room';
      b.dataset.room = r.name;
      const name = document.createElement('span');
      name.textContent = `#${r.name}`;
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = String(r.members);
      count.title = `${r.members} here`;
      b.append(name, count);
      b.addEventListener('click', () => void join(r.name));
      li.append(b);
      return li;
    }),
  );
}

// join enters the room and shows its history; it returns how many of those messages were new
// to this page.
async function join(name: string): Promise<number> {
  if (!socket) return 0;
  roomError.textContent = '';
  let reply: JoinReply | ErrorReply;
  try {
    reply = await socket.timeout(5000).emitWithAck('join', name);
  } catch {
    roomError.textContent = 'No answer from the server; try again.';
    return 0;
  }
  if ('error' in reply) {
    roomError.textContent = reply.error;
    return 0;
  }
  if (reply.room !== room) {
    dropQueued();
    room = reply.room;
    shown.clear();
    messagesEl.replaceChildren();
    clearTypists();
  }
  let fresh = 0;
  for (const m of reply.history) {
    if (showMessage(m)) fresh++;
  }
  roomTitle.textContent = `#${room}`;
  leaveButton.hidden = false;
  textInput.disabled = sendButton.disabled = false;
  history.replaceState(null, '', `#${encodeURIComponent(room)}`);
  for (const b of roomsEl.querySelectorAll<HTMLButtonElement>('button.room')) {
    b.classList.toggle('current', b.dataset.room === room);
  }
  renderMembers(reply.members);
  textInput.focus();
  return fresh;
}

leaveButton.addEventListener('click', async () => {
  if (!socket) return;
  try {
    await socket.timeout(5000).emitWithAck('leave');
  } catch {
    return;
  }
  dropQueued();
  room = '';
  shown.clear();
  clearTypists();
  roomTitle.textContent = 'Pick a room';
  leaveButton.hidden = true;
  textInput.disabled = sendButton.disabled = true;
  messagesEl.replaceChildren(notice('Pick a room, or name a new one.'));
  renderMembers([]);
  history.replaceState(null, '', location.pathname + location.search);
  for (const b of roomsEl.querySelectorAll<HTMLButtonElement>('button.room')) b.classList.remove('current');
});

newRoomForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = roomNameInput.value.trim();
  if (name === '') return;
  roomNameInput.value = '';
  void join(name);
});

// ---- presence ---------------------------------------------------------------------------------

function renderMembers(members: string[]) {
  memberCount.textContent = room ? String(members.length) : '';
  let self = false;
  membersEl.replaceChildren(
    ...members.map((m) => {
      const li = document.createElement('li');
      li.textContent = m;
      if (m === nick && !self) {
        self = true;
        li.classList.add('self');
      }
      return li;
    }),
  );
}

const presenceText: Record<Presence['kind'], string> = {
  joined: 'joined',
  left: 'left',
  offline: 'lost the connection',
  back: 'is back',
  sync: '',
};

function onPresence(p: Presence) {
  if (p.room !== room) return;
  renderMembers(p.members);
  if (p.kind === 'left' || p.kind === 'offline') dropTypist(p.id);
  // Our own comings and goings reach us too when the server replays what we missed.
  if (p.kind !== 'sync' && p.id !== socket?.id) {
    append(notice(`${p.nick} ${presenceText[p.kind]}`, p.kind));
  }
}

// ---- messages ---------------------------------------------------------------------------------

type TickState = 'queued' | 'sent' | 'delivered' | 'failed';
const tickText: Record<TickState, [string, string]> = {
  queued: ['◌', 'waiting for the connection'],
  sent: ['✓', 'sent'],
  delivered: ['✓✓', 'delivered to the server'],
  failed: ['!', 'not delivered: click to send again'],
};

// An own message until the server has acknowledged it.
interface Outgoing { cid: string; text: string; room: string; li: HTMLElement; ticks: HTMLElement; state: TickState; attempt: number }
const outbox = new Map<string, Outgoing>(); // by cid

const time = (ts: number) => new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const newID = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

function notice(text: string, kind = '') {
  const li = document.createElement('li');
  li.className = 'notice';
  if (kind) li.dataset.kind = kind;
  li.textContent = text;
  return li;
}

// append adds a line to the conversation, scrolling along when the reader is at the bottom. A
// message that follows one of the same sender does not repeat the name.
function append(li: HTMLElement) {
  const atBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 40;
  const last = messagesEl.lastElementChild as HTMLElement | null;
  if (li.classList.contains('msg') && last?.classList.contains('msg') && last.dataset.from === li.dataset.from) {
    li.classList.add('cont');
  }
  messagesEl.append(li);
  if (atBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
}

function messageItem(from: string, text: string, ts: number, own: boolean) {
  const li = document.createElement('li');
  li.className = own ? 'msg own' : 'msg';
  li.dataset.from = from;
  if (!own) {
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = from;
    li.append(who);
  }
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  const p = document.createElement('p');
  p.className = 'text';
  p.textContent = text;
  const meta = document.createElement('span');
  meta.className = 'meta';
  const t = document.createElement('time');
  t.dateTime = new Date(ts).toISOString();
  t.textContent = time(ts);
  meta.append(t);
  bubble.append(p, meta);
  li.append(bubble);
  return { li, meta };
}

// showMessage shows a message of the room once; it reports whether it was new.
function showMessage(m: Message): boolean {
  if (m.room !== room || shown.has(m.id)) return false;
  shown.add(m.id);
  const own = m.from === nick;
  const { li, meta } = messageItem(m.from, m.text, m.ts, own);
  li.dataset.id = m.id;
  if (own) {
    const ticks = document.createElement('span');
    meta.append(ticks);
    setTicks({ ticks, state: 'delivered' }, 'delivered');
  }
  append(li);
  return true;
}

function onMessage(m: Message) {
  if (showMessage(m) && away) missed++;
  dropTypist(`nick:${m.from}`);
}

function setTicks(o: Pick<Outgoing, 'ticks' | 'state'>, state: TickState, why?: string) {
  o.state = state;
  o.ticks.className = `ticks ${state}`;
  o.ticks.dataset.state = state;
  o.ticks.textContent = tickText[state][0];
  o.ticks.title = why ?? tickText[state][1];
}

composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = textInput.value.trim();
  if (text === '' || !room) return;
  textInput.value = '';
  stopTyping();
  const { li, meta } = messageItem(nick, text, Date.now(), true);
  const ticks = document.createElement('span');
  meta.append(ticks);
  const o: Outgoing = { cid: newID(), text, room, li, ticks, state: 'queued', attempt: 0 };
  li.dataset.cid = o.cid;
  ticks.addEventListener('click', () => {
    if (o.state === 'failed' && socket?.connected) transmit(o);
  });
  outbox.set(o.cid, o);
  append(li);
  if (socket?.connected) transmit(o);
  else setTicks(o, 'queued');
});

// transmit sends an own message: ✓ once it is written to the connection, ✓✓ when the server
// acknowledges it. The server recognises a message sent again (same cid) and does not post it twice.
function transmit(o: Outgoing) {
  if (!socket) return;
  const attempt = ++o.attempt;
  setTicks(o, 'sent');
  socket
    .timeout(10000)
    .emitWithAck('message', { cid: o.cid, text: o.text })
    .then((reply: PostReply | ErrorReply) => {
      if (o.attempt !== attempt) return;
      outbox.delete(o.cid);
      if ('error' in reply) {
        setTicks(o, 'failed', reply.error);
        return;
      }
      shown.add(reply.id);
      o.li.dataset.id = reply.id;
      setTicks(o, 'delivered');
    })
    .catch(() => {
      // A timeout, or the connection was lost (then requeue has already queued it again).
      if (o.attempt === attempt && o.state === 'sent') setTicks(o, 'failed', 'no answer from the server: click to send again');
    });
}

// requeue puts the messages still waiting for their ack back in the queue when the connection is lost.
function requeue() {
  for (const o of outbox.values()) if (o.state === 'sent') setTicks(o, 'queued');
}

// flush sends the queued messages once connected again.
function flush() {
  for (const o of outbox.values()) if (o.state === 'queued' && o.room === room) transmit(o);
}

// dropQueued forgets the messages queued for the room we leave.
function dropQueued() {
  for (const o of outbox.values()) if (o.state === 'queued') outbox.delete(o.cid);
}

// ---- typing -----------------------------------------------------------------------------------

// Sending: one "typing" event at most every 2 s while keys are pressed, and "stopped" after 3 s
// without a key or when the message is sent. Showing: a typist is forgotten 5 s after their last
// event, in case their "stopped" was lost (typing events are volatile).
const typingEvery = 2000;
const typingIdle = 3000;
const typingShown = 5000;
let typingSentAt = 0;
let typingIdleTimer: number | undefined;
const typists = new Map<string, { nick: string; timer: number }>(); // by socket id

textInput.addEventListener('input', () => {
  if (!socket?.connected || !room) return;
  if (textInput.value.trim() === '') {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - typingSentAt >= typingEvery) {
    socket.volatile.emit('typing', true);
    typingSentAt = now;
  }
  clearTimeout(typingIdleTimer);
  typingIdleTimer = window.setTimeout(stopTyping, typingIdle);
});

function stopTyping() {
  clearTimeout(typingIdleTimer);
  if (typingSentAt !== 0) {
    socket?.volatile.emit('typing', false);
    typingSentAt = 0;
  }
}

function onTyping(t: Typing) {
  if (t.room !== room) return;
  dropTypist(t.id);
  if (t.typing) typists.set(t.id, { nick: t.nick, timer: window.setTimeout(() => dropTypist(t.id), typingShown) });
  renderTypists();
}

// dropTypist forgets a typist by socket id, or by nickname with "nick:<name>".
function dropTypist(key: string) {
  for (const [id, t] of typists) {
    if (id === key || `nick:${t.nick}` === key) {
      clearTimeout(t.timer);
      typists.delete(id);
    }
  }
  renderTypists();
}

function clearTypists() {
  for (const t of typists.values()) clearTimeout(t.timer);
  typists.clear();
  renderTypists();
}

function renderTypists() {
  const names = [...new Set([...typists.values()].map((t) => t.nick))];
  typingEl.textContent =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing…`
          : 'Several people are typing…';
}
