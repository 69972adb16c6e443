// frontend/src/socket.ts
import { io, Socket } from 'socket.io-client';

const socket: Socket = io('http://localhost:3000');

socket.on('connect', () => {
  console.log('Conectado al servidor:', socket.id);

  // Enviar un mensaje
  socket.emit('mensaje', '¡Hola desde el frontend!');

  // Escuchar respuesta
  socket.on('respuesta', (msg) => {
    console.log('Respuesta del servidor:', msg);
  });
});

export default socket;
