#!/usr/bin/python3
"""python-socketio (Debian's python3-socketio) connecting and disconnecting over and over.

usage: /usr/bin/python3 interop/py_disconnect.py <url> <websocket|polling> <rounds>

Each round connects to '/', calls 'echo-ack' once, then disconnects; disconnect() must return within
DISCONNECT_TIMEOUT seconds (over polling it waits for its held GET to be answered after it POSTs
the DISCONNECT and close packets). Prints {"ev": "round", "n": i, "ms": ...} per round, then
{"ev": "done"}. Exit 1 on a hang, a timeout or an error; 2 when python3-socketio is missing.
"""

import json
import os
import sys
import threading
import time

DISCONNECT_TIMEOUT = 5
STEP_TIMEOUT = 10


def out(obj):
    sys.stdout.write(json.dumps(obj, default=repr) + '\n')
    sys.stdout.flush()


def finish(code):
    sys.stdout.flush()
    os._exit(code)


def fail(message):
    out({'ev': 'error', 'message': message})
    finish(1)


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ('websocket', 'polling'):
        sys.stderr.write('usage: py_disconnect.py <url> <websocket|polling> <rounds>\n')
        finish(64)
    url, transport, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        import socketio
        import requests  # noqa: F401
        import websocket  # noqa: F401
    except ImportError as e:
        sys.stderr.write('py_disconnect.py: %s; apt-get install -y python3-socketio python3-websocket python3-requests\n' % e)
        finish(2)
    for i in range(rounds):
        sio = socketio.Client(reconnection=False)
        try:
            sio.connect(url, transports=[transport], wait_timeout=STEP_TIMEOUT)
            if sio.call('echo-ack', {'n': i}, timeout=STEP_TIMEOUT) != {'n': i}:
                fail('round %d: wrong ack' % i)
        except Exception as e:
            fail('round %d: %s: %s' % (i, type(e).__name__, e))
        done = threading.Event()
        start = time.monotonic()

        def disconnect():
            sio.disconnect()
            done.set()
        threading.Thread(target=disconnect, daemon=True).start()
        if not done.wait(DISCONNECT_TIMEOUT):
            fail('round %d: disconnect() did not return within %d s' % (i, DISCONNECT_TIMEOUT))
        out({'ev': 'round', 'n': i, 'ms': int((time.monotonic() - start) * 1000)})
    out({'ev': 'done'})
    finish(0)


if __name__ == '__main__':
    main()
