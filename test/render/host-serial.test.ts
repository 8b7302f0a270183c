/**
 * The host side of the consoles, without root or QEMU: the bridge's config, unit and install scripts (run for
 * real against a temp tree, with a recording `systemctl` stand-in), and the password rotation against a fake
 * QMP server. The real thing (QEMU, SeaBIOS on the serial port, RFB) is test/e2e/serial-bridge.test.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  PRODUCTION_SERIAL_BRIDGE_PATHS,
  SERIAL_BRIDGE_PY,
  type SerialBridgeConfigArgs,
  type SerialBridgePaths,
  VNC_PASSWORD_PY,
  serialBridgeConfig,
  serialBridgeFiles,
  serialBridgeScripts,
  serialBridgeUnit,
  vncRotateScripts,
} from "../../render/host-serial";
import { shellcheck } from "../tools/shellcheck";

const SCRIPTS = join(__dirname, "../../render/scripts");
const ARGS: SerialBridgeConfigArgs = { mgmtIp: "192.168.100.10", allowFrom: ["192.168.100.11", "192.168.100.12"], vmidMin: 100, vmidMax: 4199, exclude: [4100, 4101, 99, 4102, 4100] };

/** Runs `bash -s` on `script` with env and PATH prefix; async so an in-process fake server can answer. */
function bash(script: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-s"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(script);
  });
}

describe("serial bridge config", () => {
  it("listens on the management address and loopback, admits the VPN servers and loopback, tenant VMIDs only", () => {
    expect(JSON.parse(serialBridgeConfig(ARGS))).toEqual({
      listen: ["192.168.100.10", "127.0.0.1"],
      port: 5899,
      allowFrom: ["192.168.100.11", "192.168.100.12", "127.0.0.1"],
      vmids: { min: 100, max: 4199, exclude: [4100, 4101, 4102] },
      socketDir: "/var/run/qemu-server",
      bufferBytes: 65536,
      rescanSeconds: 2,
    });
    expect(serialBridgeConfig(ARGS).endsWith("}\n")).toBe(true);
  });

  it("refuses what would widen or break the bridge, naming the value", () => {
    expect(() => serialBridgeConfig({ ...ARGS, mgmtIp: "0.0.0.0.1" })).toThrow('serial bridge: mgmtIp "0.0.0.0.1" is not an IPv4 address');
    expect(() => serialBridgeConfig({ ...ARGS, allowFrom: ["10.0.0.0/8"] })).toThrow('serial bridge: allowFrom "10.0.0.0/8" is not an IPv4 address');
    expect(() => serialBridgeConfig({ ...ARGS, vmidMin: 300, vmidMax: 200 })).toThrow("serial bridge: VMID range 300-200 is not min <= max with min >= 100");
    expect(() => serialBridgeConfig({ ...ARGS, port: 70000 })).toThrow("serial bridge: port 70000 is not a TCP port");
    expect(() => serialBridgeConfig({ ...ARGS, socketDir: "run/q" })).toThrow('not a safe absolute path: "run/q"');
    expect(() => serialBridgeConfig({ ...ARGS, rescanSeconds: 0 })).toThrow("serial bridge: rescanSeconds 0 is not 0.05 … 3600");
  });

  it("is accepted by the bridge itself; the bridge refuses a bad config with the key's name", () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-serial-cfg-"));
    try {
      const bad = (cfg: object) => {
        writeFileSync(join(dir, "c.json"), JSON.stringify(cfg));
        const r = spawnSync("/usr/bin/python3", [join(SCRIPTS, "lr-serial-bridge.py"), "serve", join(dir, "c.json")], { encoding: "utf8", timeout: 10_000 });
        return [r.status, r.stderr.trim().replace(`${dir}/`, "")];
      };
      const good = JSON.parse(serialBridgeConfig(ARGS)) as Record<string, unknown>;
      expect(bad({ ...good, port: "5899" })).toEqual([2, 'lr-serial-bridge: c.json: port must be a TCP port, got "5899"']);
      expect(bad({ ...good, allowFrom: ["vpn1"] })).toEqual([2, 'lr-serial-bridge: c.json: allowFrom: "vpn1" is not an address or network']);
      expect(bad({ ...good, listen: ["*"] })).toEqual([2, 'lr-serial-bridge: c.json: listen: "*" is not an IP address']);
      expect(bad({ ...good, extra: 1 })).toEqual([2, "lr-serial-bridge: c.json: unknown keys extra"]);
      expect(bad({ ...good, vmids: { min: 5, max: 1 } })).toEqual([2, 'lr-serial-bridge: c.json: vmids.min and vmids.max must be VMIDs with min <= max, got {"min": 5, "max": 1}']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("serial bridge unit", () => {
  const unit = serialBridgeUnit(PRODUCTION_SERIAL_BRIDGE_PATHS, ARGS.allowFrom);
  const lines = unit.split("\n");

  it("runs the installed program with its config, always restarted, before the guests start at boot", () => {
    expect(lines).toEqual(expect.arrayContaining([
      "ExecStart=/usr/bin/python3 /usr/local/lib/librerouter/lr-serial-bridge.py serve /etc/librerouter/serial-bridge.json",
      "Restart=always",
      "After=network.target",
      "Before=pve-guests.service",
      "WantedBy=multi-user.target",
    ]));
    // It binds with IP_FREEBIND: waiting for network-online would only delay it past the first VM boots.
    expect(unit).not.toMatch(/network-online/);
  });

  it("holds no capability and can open only UNIX and IP sockets, to the VPN servers and loopback", () => {
    expect(lines).toEqual(expect.arrayContaining([
      "CapabilityBoundingSet=",
      "AmbientCapabilities=",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "IPAddressDeny=any",
      "IPAddressAllow=192.168.100.11 192.168.100.12 localhost",
    ]));
    expect(lines.filter((l) => /^(ReadWritePaths|AmbientCapabilities=.|CapabilityBoundingSet=.)/.test(l))).toEqual([]);
  });

  it("is a unit systemd reads without a warning", () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-serial-unit-"));
    try {
      writeFileSync(join(dir, "librerouter-serial-bridge.service"), unit);
      const r = spawnSync("systemd-analyze", ["verify", join(dir, "librerouter-serial-bridge.service")], { encoding: "utf8" });
      if (r.error) throw new Error(`systemd-analyze could not run: ${r.error.message}`);
      // verify also checks that the program exists; on this machine it is not installed.
      const problems = r.stderr.split("\n").filter((l) => l.trim() && !l.includes("lr-serial-bridge.py"));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("serial bridge install and removal", () => {
  let dir: string;
  let paths: SerialBridgePaths;
  let env: Record<string, string>;
  const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : []);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lr-serial-install-"));
    paths = { libDir: `${dir}/lib`, confDir: `${dir}/etc`, systemdDir: `${dir}/systemd` };
    // systemctl stand-in: records its arguments; `is-active` answers from the file "active".
    writeFileSync(join(dir, "systemctl"), `#!/bin/bash\necho "$*" >>${dir}/calls\nif [[ $1 == is-active ]]; then [[ -e ${dir}/active ]]; fi\n`);
    chmodSync(join(dir, "systemctl"), 0o755);
    // Without root the scripts' chown root:root would fail; then a no-op stands in for it.
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, "chown"), "#!/bin/sh\nexit 0\n");
      chmodSync(join(dir, "chown"), 0o755);
    }
    env = { PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("scripts are shellcheck-clean bash", () => {
    const s = serialBridgeScripts({ config: ARGS });
    expect(shellcheck(s.apply)).toEqual({ ok: true, report: "" });
    expect(shellcheck(s.delete)).toEqual({ ok: true, report: "" });
  });

  it("installs the three files, starts the unit, and restarts it only when a file changed and it runs", async () => {
    const s = serialBridgeScripts({ config: ARGS, paths });
    const f = serialBridgeFiles(paths);

    const first = await bash(s.apply, env);
    expect([first.code, first.out, first.err]).toEqual([0, "serial bridge: 3 files changed (systemd)\n", ""]);
    expect(readFileSync(f.program, "utf8")).toBe(SERIAL_BRIDGE_PY);
    expect(readFileSync(f.config, "utf8")).toBe(serialBridgeConfig(ARGS));
    expect(readFileSync(f.unit, "utf8")).toBe(serialBridgeUnit(paths, ARGS.allowFrom));
    expect([f.program, f.config, f.unit].map((p) => (statSync(p).mode & 0o7777).toString(8))).toEqual(["755", "644", "644"]);
    // Not running yet: no restart, enable --now starts it.
    expect(calls()).toEqual(["daemon-reload", "is-active --quiet librerouter-serial-bridge.service", "enable --now librerouter-serial-bridge.service"]);

    writeFileSync(join(dir, "active"), "");
    rmSync(join(dir, "calls"));
    const again = await bash(s.apply, env);
    expect([again.code, again.out]).toEqual([0, "serial bridge: 0 files changed (systemd)\n"]);
    expect(calls()).toEqual(["daemon-reload", "enable --now librerouter-serial-bridge.service"]);

    rmSync(join(dir, "calls"));
    const changed = await bash(serialBridgeScripts({ config: { ...ARGS, exclude: [4100] }, paths }).apply, env);
    expect([changed.code, changed.out]).toEqual([0, "serial bridge: 1 files changed (systemd)\n"]);
    expect(calls()).toEqual(["daemon-reload", "is-active --quiet librerouter-serial-bridge.service", "restart librerouter-serial-bridge.service", "enable --now librerouter-serial-bridge.service"]);

    rmSync(join(dir, "calls"));
    const gone = await bash(s.delete, env);
    expect([gone.code, gone.out]).toEqual([0, "serial bridge: removed\n"]);
    expect([f.program, f.config, f.unit].filter((p) => existsSync(p))).toEqual([]);
    expect(calls()).toEqual(["disable --now librerouter-serial-bridge.service", "daemon-reload"]);
    // Their directories may hold other files (the host firewall's in /etc/librerouter): left alone.
    expect([paths.libDir, paths.confDir, paths.systemdDir].every((d) => existsSync(d))).toBe(true);

    rmSync(join(dir, "calls"));
    const twice = await bash(s.delete, env);
    expect([twice.code, twice.out]).toEqual([0, "serial bridge: removed\n"]);
    expect(calls()).toEqual(["daemon-reload"]);
  });

  it("LR_SERVICES=none writes files only", async () => {
    const p2 = { ...paths, libDir: `${dir}/lib2` };
    if (existsSync(join(dir, "calls"))) rmSync(join(dir, "calls"));
    const r = await bash(serialBridgeScripts({ config: ARGS, paths: p2 }).apply, { ...env, LR_SERVICES: "none" });
    expect([r.code, r.out]).toEqual([0, "serial bridge: 3 files changed (none)\n"]);
    expect(calls()).toEqual([]);
  });
});

describe("VNC password rotation", () => {
  const PW = "n3w-Pa5s";
  let dir: string;
  let server: Server | undefined;
  /** What the fake QEMU received, one parsed command per line. */
  let received: { execute: string; arguments?: Record<string, unknown>; id?: string }[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lr-vncpw-"));
    writeFileSync(join(dir, "vnc-104.pw"), PW, { mode: 0o600 });
    received = [];
  });
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A QMP server on `<dir>/104.qmp` that answers set_password with `reply` (and sends an event first, as QEMU may). */
  function fakeQemu(reply: object): Promise<void> {
    server = createServer((sock: Socket) => {
      sock.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}\r\n');
      let buf = "";
      sock.on("data", (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const cmd = JSON.parse(buf.slice(0, i)) as (typeof received)[number];
          buf = buf.slice(i + 1);
          received.push(cmd);
          if (cmd.execute === "set_password") sock.write(`{"event": "VNC_CONNECTED", "data": {}}\r\n${JSON.stringify({ ...reply, id: cmd.id })}\r\n`);
          else sock.write(`${JSON.stringify({ return: {}, id: cmd.id })}\r\n`);
        }
      });
    });
    return new Promise((r) => server!.listen(join(dir, "104.qmp"), () => r()));
  }
  const rotate = () => vncRotateScripts({ vmid: 104, passwordFile: join(dir, "vnc-104.pw"), qmpDir: dir });

  it("scripts are shellcheck-clean bash and carry no password", () => {
    const s = vncRotateScripts({ vmid: 104, passwordFile: "/var/lib/vz/snippets/vnc-104.pw", revision: "r7" });
    expect(shellcheck(s.apply)).toEqual({ ok: true, report: "" });
    expect(shellcheck(s.delete)).toEqual({ ok: true, report: "" });
    expect(s.apply).toContain("# Password revision: r7\n/usr/bin/python3 - 104 '/var/lib/vz/snippets/vnc-104.pw' --qmp-dir '/var/run/qemu-server' --display tenant <<'LR_PY'\n");
    expect(s.apply).toContain(VNC_PASSWORD_PY);
    expect(() => vncRotateScripts({ vmid: 104, passwordFile: "/x.pw", revision: "a b" })).toThrow('vnc password: revision "a b" must be letters, digits and ._:- only');
    expect(() => vncRotateScripts({ vmid: 104, passwordFile: "x.pw" })).toThrow('not a safe absolute path: "x.pw"');
  });

  it("sets the file's password on the tenant display of the running VM, skipping events", async () => {
    await fakeQemu({ return: {} });
    const r = await bash(rotate().apply, {});
    expect([r.code, r.out, r.err]).toEqual([0, "vm 104: console password set on the running VM\n", ""]);
    expect(received.map(({ execute, arguments: a }) => ({ execute, arguments: a }))).toEqual([
      { execute: "qmp_capabilities", arguments: undefined },
      { execute: "set_password", arguments: { protocol: "vnc", password: PW, display: "tenant" } },
    ]);
  });

  it("fails with QEMU's error and without the password when QMP refuses", async () => {
    await fakeQemu({ error: { class: "GenericError", desc: "Could not set password" } });
    const r = await bash(rotate().apply, {});
    expect([r.code, r.out, r.err]).toEqual([1, "", "lr-vnc-password: vm 104: set_password: GenericError: Could not set password; password NOT changed on display tenant\n"]);
  });

  it("a VM that is not running needs nothing (no socket, or a stale one)", async () => {
    const r = await bash(rotate().apply, {});
    expect([r.code, r.out]).toEqual([0, "vm 104: not running; the password applies at its next start\n"]);
    // A socket file nobody listens on, as a killed QEMU leaves behind.
    spawnSync("/usr/bin/python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", join(dir, "104.qmp")]);
    const stale = await bash(rotate().apply, {});
    expect([stale.code, stale.out]).toEqual([0, "vm 104: not running; the password applies at its next start\n"]);
  });

  it("refuses a password file that is not exactly 8 printable characters, without showing it", async () => {
    await fakeQemu({ return: {} });
    writeFileSync(join(dir, "vnc-104.pw"), `${PW}\n`);
    const r = await bash(rotate().apply, {});
    expect([r.code, r.out, r.err]).toEqual([2, "", `lr-vnc-password: password file ${dir}/vnc-104.pw: expected exactly 8 printable ASCII characters and no newline, found 9 bytes\n`]);
    expect(received).toEqual([]);
  });

  it("the delete script changes nothing", async () => {
    const r = await bash(rotate().delete, {});
    expect([r.code, r.out]).toEqual([0, "vm 104: console password rotation removed; nothing to undo\n"]);
    expect(readFileSync(join(dir, "vnc-104.pw"), "utf8")).toBe(PW);
  });
});

describe("the Python programs", () => {
  it.each(["lr-serial-bridge.py", "lr-vnc-password.py"])("%s compiles with Debian's python3 (py_compile)", (f) => {
    const r = spawnSync("/usr/bin/python3", ["-c", "import os, shutil, sys, tempfile, py_compile; d = tempfile.mkdtemp(); py_compile.compile(sys.argv[1], cfile=os.path.join(d, 'c.pyc'), doraise=True); shutil.rmtree(d)", join(SCRIPTS, f)], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
  });
});
