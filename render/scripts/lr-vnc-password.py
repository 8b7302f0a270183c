#!/usr/bin/python3
"""Sets a tenant's console password on the running VM (librerouter-hosting; rendered, do not edit).

  lr-vnc-password.py VMID PASSWORD-FILE [--qmp-dir /var/run/qemu-server] [--display tenant]

QEMU reads the password file (`-object secret,file=`) only when it starts, so a new password would wait for
the next VM start. This sends it to the running QEMU over QMP: `set_password` on the tenant's display only
(Proxmox's own display `default`, used by its web console, is left alone), so the old password stops
working at once. A VM that is not running needs nothing: QEMU reads the file at its next start.
The password travels from the file to the QMP socket only: never on argv, in the output or in errors.

Exit 0: set, or the VM is not running. Exit 1: a QMP error (the message says which). Exit 2: usage or
an unusable password file. Python 3.11 standard library only.
"""
import json
import os
import socket
import sys

TIMEOUT = 10.0


class QmpError(Exception):
    pass


class Qmp:
    """A minimal QMP client over the VM's control socket (one command at a time, events skipped)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.next_id = 0

    def message(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QmpError("QEMU closed the QMP connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:
            raise QmpError("QEMU sent something that is not QMP") from None
        if not isinstance(msg, dict):
            raise QmpError("QEMU sent something that is not QMP")
        return msg

    def greeting(self):
        msg = self.message()
        if "QMP" not in msg:
            raise QmpError("no QMP greeting on the socket")
        return msg["QMP"]

    def execute(self, command, arguments=None):
        self.next_id += 1
        ident = f"lr-{self.next_id}"
        req = {"execute": command, "id": ident}
        if arguments is not None:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.message()
            if "event" in msg:
                continue
            if msg.get("id") != ident:
                continue
            if "error" in msg:
                err = msg["error"] if isinstance(msg["error"], dict) else {}
                raise QmpError(f"{command}: {err.get('class', 'Error')}: {err.get('desc', 'no description')}")
            if "return" not in msg:
                raise QmpError(f"{command}: reply without return")
            return msg["return"]


def read_password(path):
    """The file's 8 printable ASCII characters, exactly as QEMU reads them at start (no newline allowed)."""
    try:
        with open(path, "rb") as f:
            data = f.read(65)
    except OSError as e:
        raise ValueError(f"cannot read the password file {path}: {e.strerror}") from None
    if len(data) != 8 or not all(0x21 <= b <= 0x7E for b in data):
        # Says what is wrong without showing any of it.
        raise ValueError(f"password file {path}: expected exactly 8 printable ASCII characters and no newline, found {len(data)} bytes")
    return data.decode("ascii")


def connect(path):
    """The QMP socket, or None when the VM is not running (no socket, or nobody listening on it)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        s.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        s.close()
        return None
    except OSError:
        s.close()
        raise
    return s


USAGE = "usage: lr-vnc-password.py VMID PASSWORD-FILE [--qmp-dir DIR] [--display ID]"


def parse(argv):
    pos, opts = [], {"--qmp-dir": "/var/run/qemu-server", "--display": "tenant"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in opts:
            if i + 1 >= len(argv):
                raise ValueError(f"{a} needs a value")
            opts[a] = argv[i + 1]
            i += 2
        elif a.startswith("--"):
            raise ValueError(f"unknown option {a}")
        else:
            pos.append(a)
            i += 1
    if len(pos) != 2 or not pos[0].isdigit():
        raise ValueError(USAGE)
    return int(pos[0]), pos[1], opts["--qmp-dir"], opts["--display"]


def main(argv):
    try:
        vmid, pw_file, qmp_dir, display = parse(argv)
        password = read_password(pw_file)
    except ValueError as e:
        print(f"lr-vnc-password: {e}", file=sys.stderr)
        return 2
    path = os.path.join(qmp_dir, f"{vmid}.qmp")
    try:
        sock = connect(path)
        if sock is None:
            print(f"vm {vmid}: not running; the password applies at its next start")
            return 0
        with sock:
            qmp = Qmp(sock)
            qmp.greeting()
            qmp.execute("qmp_capabilities")
            qmp.execute("set_password", {"protocol": "vnc", "password": password, "display": display})
    except socket.timeout:
        print(f"lr-vnc-password: vm {vmid}: QMP on {path} did not answer within {TIMEOUT:.0f} s (another client holding it?); password NOT changed", file=sys.stderr)
        return 1
    except (QmpError, OSError) as e:
        print(f"lr-vnc-password: vm {vmid}: {e}; password NOT changed on display {display}", file=sys.stderr)
        return 1
    print(f"vm {vmid}: console password set on the running VM")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
