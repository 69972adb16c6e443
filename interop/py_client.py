#!/usr/bin/python3
"""Second independent client: python-socketio 5.x (Debian's python3-socketio) against our server.

usage: /usr/bin/python3 interop/py_client.py <url> <websocket|polling>

Connects with auth {"token": "py"} to the namespaces '/' and '/admin' over the one transport given,
then checks, each step within 10 s:
  1. emit 'mensaje' 'hola desde python'  -> server emits 'respuesta' 'Hola, recibí tu mensaje: hola desde python'
  2. call 'echo-ack' {'n': 1}            -> server acks with the same args ({'n': 1})
  3. emit 'echo-bin' b'\\x01\\x02\\x03'    -> server emits 'echo-bin' with the same bytes (binary attachment)
  4. on '/admin': emit 'ping-admin'       -> server emits 'pong-admin' (any args)
Prints one JSON line per result on stdout ({"ev": ...}), then {"ev": "done"} and exits 0.
On a timeout, a wrong answer or a connection error it prints {"ev": "error", ...} and exits 1.
Exit 2: python3-socketio (or what the transport needs) is not installed. Exit 64: bad usage.
Needs: apt-get install -y python3-socketio python3-websocket python3-requests
(run it with /usr/bin/python3, which sees Debian's packages).
"""

import json
import os
import queue
import sys
import threading

STEP_TIMEOUT = 10  # seconds for each step (connect, each answer)
OVERALL_TIMEOUT = 60  # watchdog for the whole run, in case something hangs outside a step
EXPECTED_RESPUESTA = 'Hola, recibí tu mensaje: hola desde python'
BIN = b'\x01\x02\x03'


def out(obj):
    sys.stdout.write(json.dumps(obj, default=repr) + '\n')
    sys.stdout.flush()


def finish(code):
    sys.stdout.flush()
    sys.stderr.flush()
    # Daemon and non-daemon threads of engineio may linger on a broken peer: never hang on exit.
    os._exit(code)


def fail(message, **extra):
    out(dict({'ev': 'error', 'message': message}, **extra))
    finish(1)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ('websocket', 'polling'):
        sys.stderr.write('usage: /usr/bin/python3 interop/py_client.py <url> <websocket|polling>\n')
        finish(64)
    url, transport = sys.argv[1], sys.argv[2]

    try:
        import socketio
        if transport == 'websocket':
            import websocket  # noqa: F401  (python3-websocket, used by engineio for this transport)
        else:
            import requests  # noqa: F401  (python3-requests, used by engineio for polling)
    except ImportError as e:
        sys.stderr.write('py_client.py: %s; install Debian\'s packages: '
                         'apt-get install -y python3-socketio python3-websocket python3-requests\n' % e)
        finish(2)

    watchdog = threading.Timer(OVERALL_TIMEOUT, lambda: fail('watchdog: run took over %d s' % OVERALL_TIMEOUT))
    watchdog.daemon = True
    watchdog.start()

    sio = socketio.Client(reconnection=False)
    received = {name: queue.Queue() for name in ('respuesta', 'echo-bin', 'pong-admin')}

    @sio.on('connect')
    def _on_connect():
        out({'ev': 'connect', 'namespace': '/', 'sid': sio.get_sid('/')})

    @sio.on('connect', namespace='/admin')
    def _on_connect_admin():
        out({'ev': 'connect', 'namespace': '/admin', 'sid': sio.get_sid('/admin')})

    @sio.on('connect_error')
    def _on_connect_error(data=None):
        out({'ev': 'connect_error', 'namespace': '/', 'data': data})

    @sio.on('connect_error', namespace='/admin')
    def _on_connect_error_admin(data=None):
        out({'ev': 'connect_error', 'namespace': '/admin', 'data': data})

    @sio.on('respuesta')
    def _on_respuesta(*args):
        received['respuesta'].put(args)

    @sio.on('echo-bin')
    def _on_echo_bin(*args):
        received['echo-bin'].put(args)

    @sio.on('pong-admin', namespace='/admin')
    def _on_pong_admin(*args):
        received['pong-admin'].put(args)

    def wait_for(name):
        try:
            return received[name].get(timeout=STEP_TIMEOUT)
        except queue.Empty:
            fail('timeout: no %r within %d s' % (name, STEP_TIMEOUT))

    try:
        sio.connect(url, auth={'token': 'py'}, transports=[transport], namespaces=['/', '/admin'],
                    wait_timeout=STEP_TIMEOUT)
    except Exception as e:  # socketio.exceptions.ConnectionError and transport errors
        fail('connect: %s: %s' % (type(e).__name__, e))
    out({'ev': 'connected', 'transport': sio.transport(), 'namespaces': sorted(sio.namespaces)})
    if sio.transport() != transport:
        fail('connected over %r, wanted %r' % (sio.transport(), transport))

    try:
        # 1. the seed's exchange
        sio.emit('mensaje', 'hola desde python')
        args = wait_for('respuesta')
        out({'ev': 'respuesta', 'args': list(args)})
        if list(args) != [EXPECTED_RESPUESTA]:
            fail('respuesta: got %r, want %r' % (list(args), [EXPECTED_RESPUESTA]))

        # 2. acknowledgement carrying the event's args back
        try:
            ack = sio.call('echo-ack', {'n': 1}, timeout=STEP_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            fail('timeout: no ack for echo-ack within %d s' % STEP_TIMEOUT)
        out({'ev': 'ack', 'data': ack})
        if ack != {'n': 1}:
            fail('ack: got %r, want %r' % (ack, {'n': 1}))

        # 3. binary attachment both ways
        sio.emit('echo-bin', BIN)
        args = wait_for('echo-bin')
        got = args[0] if len(args) == 1 else None
        if isinstance(got, (bytes, bytearray)):
            out({'ev': 'echo-bin', 'hex': bytes(got).hex()})
        else:
            out({'ev': 'echo-bin', 'args': repr(args)})
        if got != BIN:
            fail('echo-bin: got %r, want %r' % (args, BIN))

        # 4. second namespace on the same connection
        sio.emit('ping-admin', namespace='/admin')
        args = wait_for('pong-admin')
        out({'ev': 'pong-admin', 'namespace': '/admin', 'args': list(args)})
    except Exception as e:
        fail('%s: %s' % (type(e).__name__, e))

    try:
        sio.disconnect()
    except Exception:
        pass
    out({'ev': 'done'})
    finish(0)


if __name__ == '__main__':
    main()
