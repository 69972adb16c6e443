// Shows on the page what the seed's socket (src/socket.ts, unchanged) does: the connection state
// (#conexion, and #estado as 'conectado: <id> (<transport>)'), the Engine.IO transport in use
// (#transporte, updated when polling upgrades to WebSocket), the server's last 'respuesta'
// (#respuesta), and every event sent or received (#historial), the seed's own first 'mensaje'
// included.
import socket from './socket';
import './style.css';

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const conexion = el('conexion');
const conexionTexto = el('conexion-texto');
const estado = el('estado');
const transporte = el('transporte');
const mejora = el('mejora');
const respuesta = el('respuesta');
const historial = el('historial');
const form = el<HTMLFormElement>('enviar');
const texto = el<HTMLInputElement>('texto');

type Estado = 'connecting' | 'connected' | 'disconnected' | 'error';

function mostrarEstado(state: Estado, pill: string, text: string) {
  conexion.dataset.state = state;
  conexionTexto.textContent = pill;
  estado.textContent = text;
}

// The transport of the current connection: 'polling' first, 'websocket' once upgraded.
function mostrarConectado() {
  if (!socket.connected) return;
  const name = socket.io.engine.transport.name;
  mostrarEstado('connected', 'conectado', `conectado: ${socket.id} (${name})`);
  transporte.textContent = name;
  transporte.dataset.transport = name;
}

mostrarEstado('connecting', 'conectando…', 'conectando…');
socket.on('connect', mostrarConectado);
socket.io.on('open', () => {
  mejora.textContent = '';
  socket.io.engine.on('upgrade', () => {
    mostrarConectado();
    mejora.textContent = 'mejorado desde polling';
  });
});
socket.io.on('reconnect_attempt', (n) => {
  mostrarEstado('connecting', `reconectando… (${n})`, `reconectando… intento ${n}`);
});
socket.on('disconnect', (reason) => {
  mostrarEstado('disconnected', 'desconectado', `desconectado: ${reason}`);
  transporte.textContent = '—';
  delete transporte.dataset.transport;
  mejora.textContent = '';
});
socket.on('connect_error', (err) => {
  mostrarEstado('error', 'sin conexión', `error de conexión: ${err.message}`);
});

const hora = () => new Date().toLocaleTimeString('es', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

// anotar adds one event to #historial: 'sale' (sent by the page) or 'entra' (from the server).
function anotar(dir: 'sale' | 'entra', event: string, args: unknown[]) {
  const li = document.createElement('li');
  li.className = dir;
  li.dataset.event = event;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${dir === 'sale' ? '→' : '←'} ${event} · ${hora()}`;
  const body = document.createElement('span');
  body.className = 'texto';
  body.textContent = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  li.append(meta, body);
  historial.appendChild(li);
  li.scrollIntoView({ block: 'nearest' });
}

socket.onAnyOutgoing((event: string, ...args: unknown[]) => anotar('sale', event, args));
socket.onAny((event: string, ...args: unknown[]) => anotar('entra', event, args));

socket.on('respuesta', (msg: unknown) => {
  respuesta.textContent = String(msg);
  respuesta.classList.remove('muted');
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (texto.value !== '') {
    socket.emit('mensaje', texto.value);
    texto.value = '';
  }
});
