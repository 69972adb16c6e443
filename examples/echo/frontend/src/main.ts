// Shows on the page what the seed's socket (src/socket.ts) does: the connection state in #estado,
// the server's last 'respuesta' in #respuesta and every one received in #historial.
import socket from './socket';

const estado = document.getElementById('estado')!;
const respuesta = document.getElementById('respuesta')!;
const historial = document.getElementById('historial')!;
const form = document.getElementById('enviar') as HTMLFormElement;
const texto = document.getElementById('texto') as HTMLInputElement;

estado.textContent = 'conectando…';

// '(polling)' or '(websocket)': the Engine.IO transport in use, updated when polling upgrades.
const mostrarConectado = () => {
  if (socket.connected) estado.textContent = `conectado: ${socket.id} (${socket.io.engine.transport.name})`;
};
socket.on('connect', mostrarConectado);
socket.io.on('open', () => socket.io.engine.on('upgrade', mostrarConectado));

socket.on('disconnect', (reason) => {
  estado.textContent = `desconectado: ${reason}`;
});

socket.on('connect_error', (err) => {
  estado.textContent = `error de conexión: ${err.message}`;
});

socket.on('respuesta', (msg: unknown) => {
  const text = String(msg);
  respuesta.textContent = text;
  const li = document.createElement('li');
  li.textContent = text;
  historial.appendChild(li);
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (texto.value !== '') {
    socket.emit('mensaje', texto.value);
    texto.value = '';
  }
});
