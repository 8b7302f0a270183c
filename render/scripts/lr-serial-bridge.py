#!/usr/bin/python3
"""Serial console bridge on the Proxmox host (librerouter-hosting; installed by the program, do not edit).

  lr-serial-bridge.py serve CONFIG.json
  lr-serial-bridge.py attach VMID [--config CONFIG.json]

serve: holds one connection to each tenant VM's serial socket (<socketDir>/<vmid>.serial0, QEMU's
`-chardev socket,server=on,wait=off`), keeps the last bufferBytes of its output and shares the console
with every attached viewer, like conserver. A viewer connects over TCP from an allowFrom address, sends
`serial <vmid>\\n` within 5 s and gets `ok\\n`, the buffered output, then live bytes both ways; or
`error <reason>\\n` and the connection closes. A VM that is not running gets an in-band notice, and the
viewer stays attached across VM restarts. Logs go to stderr (the journal): attach, detach, refusals and
VM (dis)connections, never console data.

attach: the operator's view (run on the host as root): the current terminal is joined to a VM's console
through the bridge on 127.0.0.1, in raw mode; Ctrl-] detaches.

Python 3.11 standard library only.
"""
import asyncio
import ipaddress
import json
import os
import re
import signal
import socket
import sys

DEFAULT_CONFIG = "/etc/librerouter/serial-bridge.json"
REQUEST_TIMEOUT = 5.0
REQUEST_MAX = 64
# A viewer whose unsent output passes this is dropped: a slow viewer must never stall the others.
CLIENT_BUFFER_MAX = 1 << 20
# When even the fastest viewer has this much unsent, the bridge stops reading the VM until one catches up: the
# guest's console then runs at the fastest viewer's pace (as on a real serial line), and only viewers slower
# than that one fall behind and get dropped. Without viewers the VM is read at full speed (ring buffer only).
CLIENT_BUFFER_HIGH = 1 << 18
# Input for a VM is held up to this much (a guest that reads nothing); beyond it the viewer's input waits.
QEMU_BUFFER_MAX = 1 << 16
# How often the socket directory is looked at: a new socket is connected within this, so little of a boot is lost
# (QEMU's wait=off drops what it prints before anyone is connected).
WATCH_SECONDS = 0.05
DETACH_KEY = b"\x1d"
SOCKET_NAME = re.compile(r"^([0-9]{1,9})\.serial0$")
REQUEST = re.compile(rb"^serial ([0-9]{1,9})\r?\n$")


def log(message):
    print(f"lr-serial-bridge: {message}", file=sys.stderr, flush=True)


class ConfigError(Exception):
    pass


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a JSON object")
    known = {"listen", "port", "allowFrom", "vmids", "socketDir", "bufferBytes", "rescanSeconds", "maxViewers"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ConfigError(f"{path}: unknown keys {', '.join(extra)}")

    def need(key, kind, check, what):
        value = raw.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or not check(value):
            raise ConfigError(f"{path}: {key} must be {what}, got {json.dumps(value)}")
        return value

    listen = need("listen", list, lambda v: v and all(isinstance(a, str) for a in v), "a non-empty list of addresses")
    for a in listen:
        try:
            ipaddress.ip_address(a)
        except ValueError:
            raise ConfigError(f"{path}: listen: {json.dumps(a)} is not an IP address") from None
    port = need("port", int, lambda v: 1 <= v <= 65535, "a TCP port")
    allow = need("allowFrom", list, lambda v: all(isinstance(a, str) for a in v), "a list of addresses")
    networks = []
    for a in allow:
        try:
            networks.append(ipaddress.ip_network(a, strict=True))
        except ValueError:
            raise ConfigError(f"{path}: allowFrom: {json.dumps(a)} is not an address or network") from None
    vmids = need("vmids", dict, lambda v: True, "an object {min, max, exclude}")
    lo, hi, exclude = vmids.get("min"), vmids.get("max"), vmids.get("exclude", [])
    if not (isinstance(lo, int) and isinstance(hi, int) and 100 <= lo <= hi <= 999999999):
        raise ConfigError(f"{path}: vmids.min and vmids.max must be VMIDs with min <= max, got {json.dumps(vmids)}")
    if not (isinstance(exclude, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in exclude)):
        raise ConfigError(f"{path}: vmids.exclude must be a list of VMIDs, got {json.dumps(exclude)}")
    socket_dir = need("socketDir", str, lambda v: v.startswith("/"), "an absolute directory")
    buffer_bytes = need("bufferBytes", int, lambda v: 0 <= v <= 1 << 24, "a byte count up to 16 MiB")
    rescan = need("rescanSeconds", (int, float), lambda v: 0.05 <= v <= 3600, "seconds between 0.05 and 3600")
    max_viewers = raw.get("maxViewers", 32)
    if not isinstance(max_viewers, int) or isinstance(max_viewers, bool) or max_viewers < 1:
        raise ConfigError(f"{path}: maxViewers must be a positive count, got {json.dumps(max_viewers)}")
    return {
        "listen": listen,
        "port": port,
        "allow": networks,
        "min": lo,
        "max": hi,
        "exclude": frozenset(exclude),
        "socketDir": socket_dir,
        "bufferBytes": buffer_bytes,
        "rescanSeconds": float(rescan),
        "maxViewers": max_viewers,
    }


def notice(text):
    return f"\r\n[console: {text}]\r\n".encode()


class Viewer:
    def __init__(self, writer, peer):
        self.writer = writer
        self.peer = peer
        self.dropped = False

    def backlog(self):
        return self.writer.transport.get_write_buffer_size()

    def send(self, data):
        """Queues data without waiting; False (and the connection cut) when the viewer lags too far behind."""
        if self.dropped:
            return False
        transport = self.writer.transport
        if transport.is_closing():
            return False
        self.writer.write(data)
        if transport.get_write_buffer_size() > CLIENT_BUFFER_MAX:
            self.dropped = True
            transport.abort()
            return False
        return True


class Console:
    """One VM's serial port: the QEMU connection (when the VM runs), the ring buffer and the viewers."""

    def __init__(self, bridge, vmid):
        self.bridge = bridge
        self.vmid = vmid
        self.path = os.path.join(bridge.cfg["socketDir"], f"{vmid}.serial0")
        self.buffer = bytearray()
        self.viewers = set()
        self.qemu = None  # StreamWriter towards QEMU while connected
        self.connecting = None  # the running connect attempt, so two never overlap
        self.reader_task = None

    @property
    def running(self):
        return self.qemu is not None

    def record(self, data):
        limit = self.bridge.cfg["bufferBytes"]
        self.buffer += data
        if len(self.buffer) > limit:
            del self.buffer[: len(self.buffer) - limit]

    def broadcast(self, data):
        for v in list(self.viewers):
            if not v.send(data):
                self.viewers.discard(v)
                if v.dropped:
                    log(f"detach vm={self.vmid} from={v.peer} reason=too-slow viewers={len(self.viewers)}")

    async def try_connect(self):
        """One attempt to reach QEMU; True when connected (now or already)."""
        if self.running:
            return True
        if self.connecting is None:
            self.connecting = asyncio.ensure_future(self._connect())
        try:
            return await asyncio.shield(self.connecting)
        finally:
            if self.connecting is not None and self.connecting.done():
                self.connecting = None

    async def _connect(self):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.path), 2)
        except (OSError, asyncio.TimeoutError):
            return False
        self.qemu = writer
        log(f"vm {self.vmid}: serial connected")
        self.broadcast(notice(f"VM {self.vmid} connected"))
        self.reader_task = asyncio.ensure_future(self._pump(reader, writer))
        return True

    async def _pump(self, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.record(data)
                self.broadcast(data)
                while self.viewers and all(v.backlog() > CLIENT_BUFFER_HIGH for v in self.viewers):
                    await asyncio.sleep(0.01)
        except OSError:
            pass
        finally:
            self.qemu = None
            writer.close()
            log(f"vm {self.vmid}: serial closed")
            self.broadcast(notice(f"VM {self.vmid} is not running; waiting for it"))

    async def write(self, data):
        """Viewer input to QEMU; dropped while the VM is not running."""
        qemu = self.qemu
        if qemu is None or qemu.transport.is_closing():
            return
        qemu.write(data)
        if qemu.transport.get_write_buffer_size() > QEMU_BUFFER_MAX:
            try:
                await qemu.drain()
            except OSError:
                pass


class Bridge:
    def __init__(self, cfg):
        self.cfg = cfg
        self.consoles = {}
        self.dir_stamp = None

    def allowed_vmid(self, vmid):
        c = self.cfg
        return c["min"] <= vmid <= c["max"] and vmid not in c["exclude"]

    def console(self, vmid):
        con = self.consoles.get(vmid)
        if con is None:
            con = self.consoles[vmid] = Console(self, vmid)
        return con

    def allowed_source(self, host):
        try:
            addr = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in n for n in self.cfg["allow"])

    async def scan(self):
        """Connects every tenant socket in socketDir that is not connected yet (one attempt each)."""
        try:
            names = os.listdir(self.cfg["socketDir"])
        except OSError:
            return
        tries = []
        for name in names:
            m = SOCKET_NAME.match(name)
            if not m:
                continue
            vmid = int(m.group(1))
            if self.allowed_vmid(vmid) and not self.console(vmid).running:
                tries.append(self.console(vmid).try_connect())
        if tries:
            await asyncio.gather(*tries)

    def dir_changed(self):
        try:
            st = os.stat(self.cfg["socketDir"])
            stamp = (st.st_ino, st.st_mtime_ns)
        except OSError:
            stamp = None
        changed = stamp != self.dir_stamp
        self.dir_stamp = stamp
        return changed

    async def watch(self):
        """Rescans at once when a socket appears (the directory changes), and every rescanSeconds anyway (retries)."""
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            now = loop.time()
            if self.dir_changed() or now - last >= self.cfg["rescanSeconds"]:
                last = now
                await self.scan()
            await asyncio.sleep(WATCH_SECONDS)

    async def handle(self, reader, writer):
        sock = writer.get_extra_info("peername") or ("?", 0)
        host, port = sock[0], sock[1]
        peer = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        viewer = None
        con = None
        try:
            if not self.allowed_source(host):
                await self.refuse(writer, peer, "source not allowed")
                return
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), REQUEST_TIMEOUT)
            except asyncio.TimeoutError:
                await self.refuse(writer, peer, "timeout")
                return
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                await self.refuse(writer, peer, "malformed request")
                return
            m = REQUEST.match(line) if len(line) <= REQUEST_MAX else None
            if not m:
                await self.refuse(writer, peer, "malformed request")
                return
            vmid = int(m.group(1))
            if not self.allowed_vmid(vmid):
                await self.refuse(writer, peer, f"vmid {vmid} is not a tenant console")
                return
            con = self.console(vmid)
            if len(con.viewers) >= self.cfg["maxViewers"]:
                await self.refuse(writer, peer, f"vm {vmid} has too many viewers")
                return
            running = await con.try_connect()
            viewer = Viewer(writer, peer)
            greeting = b"ok\n" + bytes(con.buffer)
            if not running:
                greeting += notice(f"VM {vmid} is not running; waiting for it")
            if not viewer.send(greeting):
                return
            con.viewers.add(viewer)
            log(f"attach vm={vmid} from={peer} viewers={len(con.viewers)}")
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                await con.write(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if viewer is not None and con is not None and viewer in con.viewers:
                con.viewers.discard(viewer)
                log(f"detach vm={con.vmid} from={peer} viewers={len(con.viewers)}")
            writer.close()

    async def refuse(self, writer, peer, reason):
        log(f"refused from={peer} reason={reason}")
        try:
            writer.write(f"error {reason}\n".encode())
            await asyncio.wait_for(writer.drain(), 2)
        except (OSError, asyncio.TimeoutError):
            pass


def listening_socket(address, port):
    addr = ipaddress.ip_address(address)
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # IP_FREEBIND: bind the management address even before the interface has it (boot order).
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_FREEBIND", 78), 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_FREEBIND", 15), 1)
    s.bind((address, port))
    s.setblocking(False)
    return s


async def serve(cfg):
    bridge = Bridge(cfg)
    servers = []
    for address in cfg["listen"]:
        sock = listening_socket(address, cfg["port"])
        servers.append(await asyncio.start_server(bridge.handle, sock=sock, backlog=64))
    where = ", ".join(f"{a}:{cfg['port']}" for a in cfg["listen"])
    log(f"listening on {where}; VMIDs {cfg['min']}-{cfg['max']} (excluding {len(cfg['exclude'])}) in {cfg['socketDir']}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.ensure_future(bridge.watch())
    await stop.wait()
    watcher.cancel()
    for s in servers:
        s.close()
    log("stopped")


def attach(vmid, config_path):
    """The operator's console: this terminal <-> the bridge on 127.0.0.1 (raw mode on a tty; Ctrl-] detaches)."""
    import selectors
    import termios
    import tty

    cfg = load_config(config_path)
    try:
        s = socket.create_connection(("127.0.0.1", cfg["port"]), timeout=5)
    except OSError as e:
        print(f"lr-serial-bridge: cannot reach the bridge on 127.0.0.1:{cfg['port']}: {e}", file=sys.stderr)
        return 1
    s.sendall(f"serial {vmid}\n".encode())
    reply = b""
    while not reply.endswith(b"\n") and len(reply) < 200:
        chunk = s.recv(1)
        if not chunk:
            break
        reply += chunk
    if reply != b"ok\n":
        text = reply.decode("utf-8", "replace").strip() or "connection closed"
        print(f"lr-serial-bridge: vm {vmid}: {text}", file=sys.stderr)
        return 1
    s.settimeout(None)
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    saved = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    print(f"[attached to VM {vmid}; Ctrl-] detaches]", end="\r\n", file=sys.stderr, flush=True)
    try:
        if saved is not None:
            tty.setraw(stdin)
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ)
        sel.register(stdin, selectors.EVENT_READ)
        while True:
            for key, _ in sel.select():
                if key.fileobj is s:
                    data = s.recv(65536)
                    if not data:
                        print("\r\n[bridge closed the connection]", end="\r\n", file=sys.stderr, flush=True)
                        return 1
                    os.write(stdout, data)
                else:
                    data = os.read(stdin, 4096)
                    if DETACH_KEY in data:
                        s.sendall(data.split(DETACH_KEY, 1)[0])
                        return 0
                    if not data:
                        sel.unregister(stdin)  # input ended (a pipe): keep showing output until Ctrl-C
                        continue
                    s.sendall(data)
    except KeyboardInterrupt:
        return 0
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        print("\r\n[detached]", file=sys.stderr, flush=True)
        s.close()


USAGE = "usage: lr-serial-bridge.py serve CONFIG.json | attach VMID [--config CONFIG.json]"


def main(argv):
    if len(argv) == 2 and argv[0] == "serve":
        try:
            cfg = load_config(argv[1])
        except ConfigError as e:
            print(f"lr-serial-bridge: {e}", file=sys.stderr)
            return 2
        try:
            asyncio.run(serve(cfg))
        except OSError as e:
            print(f"lr-serial-bridge: {e}", file=sys.stderr)
            return 1
        return 0
    if argv and argv[0] == "attach" and len(argv) in (2, 4) and argv[1].isdigit():
        config = DEFAULT_CONFIG
        if len(argv) == 4:
            if argv[2] != "--config":
                print(USAGE, file=sys.stderr)
                return 2
            config = argv[3]
        try:
            return attach(int(argv[1]), config)
        except ConfigError as e:
            print(f"lr-serial-bridge: {e}", file=sys.stderr)
            return 2
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
