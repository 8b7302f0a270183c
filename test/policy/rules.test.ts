/** The policy pack's pure checks (policy/rules.ts, policy/qemu-args.ts): exact messages, good and bad inputs. */
import { parseQemuArgs, parseVnc, splitArgs } from "../../policy/qemu-args";
import {
  capacityViolations,
  isTenantVm,
  parentTypes,
  plaintextSecretViolations,
  snippetContentViolations,
  snippetModeViolations,
  tenantVmViolations,
  vncListenerViolations,
  vncPasswordViolations,
} from "../../policy/rules";

/** What the Tenant component passes (DESIGN §5, verified on QEMU 7.2). */
const GOOD = "-object secret,id=vncpw-tenant,file=/var/lib/vz/snippets/vnc-acme.pw -vnc 192.168.100.10:101,id=tenant,password-secret=vncpw-tenant";
const SECRET = "-object secret,id=vncpw-tenant,file=/var/lib/vz/snippets/vnc-acme.pw";

describe("qemu args", () => {
  test("split like Proxmox: whitespace, quotes group a word", () => {
    expect(splitArgs(` -vnc  '192.168.100.10:1,id=a' "x y"\tz `)).toEqual(["-vnc", "192.168.100.10:1,id=a", "x y", "z"]);
  });

  test("the tenant's display and secret object", () => {
    const a = parseQemuArgs(GOOD);
    expect(a.secrets).toEqual([{ id: "vncpw-tenant", file: "/var/lib/vz/snippets/vnc-acme.pw", inline: false }]);
    expect(a.vnc.map((d) => ({ ...d, settings: Object.fromEntries(d.settings) }))).toEqual([
      { raw: "192.168.100.10:101,id=tenant,password-secret=vncpw-tenant", kind: "tcp", host: "192.168.100.10", display: 101, settings: { id: "tenant", "password-secret": "vncpw-tenant" } },
    ]);
  });

  test.each([
    ["[fd00::10]:5,password", { kind: "tcp", host: "fd00::10", display: 5, settings: { password: "on" } }],
    [":7", { kind: "tcp", host: "", display: 7, settings: {} }],
    ["unix:/run/x.vnc,password=on", { kind: "unix", host: "/run/x.vnc", display: undefined, settings: { password: "on" } }],
    ["none", { kind: "none", host: "", display: undefined, settings: {} }],
    ["localhost:3", { kind: "tcp", host: "localhost", display: 3, settings: {} }],
  ])("-vnc %s", (raw, want) => {
    const d = parseVnc(raw);
    expect({ kind: d.kind, host: d.host, display: d.display, settings: Object.fromEntries(d.settings) }).toEqual(want);
  });

  test("--vnc is the same option; a trailing -vnc without a value is ignored", () => {
    expect(parseQemuArgs("--vnc 10.0.0.1:1 -vnc").vnc.map((d) => d.host)).toEqual(["10.0.0.1"]);
  });
});

describe("no VNC listener on a public or wildcard address", () => {
  test("the management address passes; so do unix sockets, none, and no args at all", () => {
    expect(vncListenerViolations(GOOD)).toEqual([]);
    expect(vncListenerViolations(GOOD, { managementCidr: "192.168.100.0/24" })).toEqual([]);
    expect(vncListenerViolations("-vnc unix:/run/t.vnc -vnc none")).toEqual([]);
    expect(vncListenerViolations(undefined)).toEqual([]);
    expect(vncListenerViolations("-vnc [fd12::1]:4,password")).toEqual([]);
  });

  test.each([
    ["-vnc 0.0.0.0:3149,password=on", 'VNC display "0.0.0.0:3149,password=on" listens on every address (0.0.0.0); bind it to the host\'s management address'],
    ["-vnc :3149,password=on", 'VNC display ":3149,password=on" listens on every address (no host given); bind it to the host\'s management address'],
    ["-vnc [::]:1,password=on", 'VNC display "[::]:1,password=on" listens on every address (::); bind it to the host\'s management address'],
    ["-vnc 192.0.2.10:101,password=on", 'VNC display "192.0.2.10:101,password=on" listens on reserved address 192.0.2.10; bind it to the host\'s management address'],
    ["-vnc 8.8.8.8:1,password=on", 'VNC display "8.8.8.8:1,password=on" listens on public address 8.8.8.8; bind it to the host\'s management address'],
    ["-vnc [2001:4860::1]:1,password=on", 'VNC display "[2001:4860::1]:1,password=on" listens on public address 2001:4860::1; bind it to the host\'s management address'],
    ["-vnc 127.0.0.1:1,password=on", 'VNC display "127.0.0.1:1,password=on" listens on loopback address 127.0.0.1; bind it to the host\'s management address'],
    ["-vnc pve1.example.net:1,password=on", 'VNC display "pve1.example.net:1,password=on" listens on host name "pve1.example.net", which cannot be checked; bind it to the host\'s management address'],
    ["-vnc 192.168.100.10,password=on", 'VNC display "192.168.100.10,password=on" is not in host:display form; bind it to the host\'s management address'],
  ])("%s", (args, message) => {
    expect(vncListenerViolations(args)).toEqual([message]);
  });

  test("with the management network configured, another private address is refused", () => {
    expect(vncListenerViolations("-vnc 10.0.0.1:101,password=on", { managementCidr: "192.168.100.0/24" })).toEqual([
      'VNC display "10.0.0.1:101,password=on" listens on 10.0.0.1, outside the management network 192.168.100.0/24; bind it to the host\'s management address',
    ]);
  });

  test("a websocket with its own host is checked like the display", () => {
    expect(vncListenerViolations("-vnc 192.168.100.10:1,password=on,websocket=0.0.0.0:5701")).toEqual([
      'VNC display "192.168.100.10:1,password=on,websocket=0.0.0.0:5701" opens a websocket that listens on every address (0.0.0.0)',
    ]);
    expect(vncListenerViolations("-vnc 192.168.100.10:1,password=on,websocket=on")).toEqual([]);
  });

  test("every display is checked, not only the first", () => {
    expect(vncListenerViolations(`${GOOD} -vnc 0.0.0.0:2,password=on`)).toHaveLength(1);
  });
});

describe("every console has password auth", () => {
  test("password-secret with a file, or password=on, passes", () => {
    expect(vncPasswordViolations(GOOD)).toEqual([]);
    expect(vncPasswordViolations("-vnc 192.168.100.10:1,id=tenant,password=on")).toEqual([]);
    expect(vncPasswordViolations("-vnc 192.168.100.10:1,password")).toEqual([]);
    expect(vncPasswordViolations("-vnc unix:/run/t.vnc")).toEqual([]);
  });

  test.each([
    ["-vnc 192.168.100.10:1,id=tenant", 'VNC display "192.168.100.10:1,id=tenant" has no password: add password-secret=<id> (or password=on); without it QEMU offers security type None, an open console'],
    ["-vnc 192.168.100.10:1,password=off", 'VNC display "192.168.100.10:1,password=off" has no password: add password-secret=<id> (or password=on); without it QEMU offers security type None, an open console'],
    [`${SECRET} -vnc 192.168.100.10:1,password=on,password-secret=vncpw-tenant`, 'VNC display "192.168.100.10:1,password=on,password-secret=vncpw-tenant" sets both password=on and password-secret; QEMU refuses to start with both'],
    ["-vnc 192.168.100.10:1,password-secret=vncpw-tenant", 'VNC display "192.168.100.10:1,password-secret=vncpw-tenant" uses password-secret=vncpw-tenant but the args define no -object secret,id=vncpw-tenant'],
    ["-object secret,id=s -vnc 192.168.100.10:1,password-secret=s", "-object secret,id=s has neither file= nor data=; QEMU cannot read the VNC password"],
  ])("%s", (args, message) => {
    expect(vncPasswordViolations(args)).toEqual([message]);
  });
});

describe("tenant VMs are protected linked clones", () => {
  const TENANT_URN = "urn:pulumi:prod::librerouter-hosting::librerouter:tenant:Tenant$proxmoxve:index/vmLegacy:VmLegacy::tenant-acme-vm";
  const VPN_URN = "urn:pulumi:prod::librerouter-hosting::librerouter:vpn:OpenVpnServer$proxmoxve:index/vmLegacy:VmLegacy::vpn1-vm";

  test("parent types come from the URN's type chain", () => {
    expect(parentTypes(TENANT_URN)).toEqual(["librerouter:tenant:Tenant"]);
    expect(parentTypes("urn:pulumi:s::p::proxmoxve:index/vmLegacy:VmLegacy::x")).toEqual([]);
  });

  test("lr-<key> VMs are tenants unless a non-tenant component owns them (the VPN servers are lr-vpn1-<stack>)", () => {
    expect(isTenantVm("lr-acme", TENANT_URN)).toBe(true);
    expect(isTenantVm("lr-acme", "urn:pulumi:s::p::proxmoxve:index/vmLegacy:VmLegacy::x")).toBe(true);
    expect(isTenantVm("lr-vpn1-prod", VPN_URN)).toBe(false);
    expect(isTenantVm("services", TENANT_URN)).toBe(false);
  });

  test("protected linked clone passes", () => {
    expect(tenantVmViolations({ name: "lr-acme", protection: true, clone: { full: false } }, TENANT_URN)).toEqual([]);
  });

  test("unprotected, full clone (the provider's default), or no clone at all are refused", () => {
    expect(tenantVmViolations({ name: "lr-acme", clone: {} }, TENANT_URN)).toEqual([
      'tenant VM "lr-acme" must have protection: true (it holds the tenant\'s data); got nothing',
      'tenant VM "lr-acme" must be a linked clone (clone.full: false); got clone.full: nothing (the provider\'s default is a full clone)',
    ]);
    expect(tenantVmViolations({ name: "lr-acme", protection: false, clone: { full: true } }, TENANT_URN)).toEqual([
      'tenant VM "lr-acme" must have protection: true (it holds the tenant\'s data); got false',
      'tenant VM "lr-acme" must be a linked clone (clone.full: false); got clone.full: true (the provider\'s default is a full clone)',
    ]);
    expect(tenantVmViolations({ name: "lr-acme", protection: true }, TENANT_URN)).toEqual([
      'tenant VM "lr-acme" must be a linked clone of the template (clone.full: false); it has no clone block',
    ]);
  });

  test("a VPN server VM is not held to the tenant rule", () => {
    expect(tenantVmViolations({ name: "lr-vpn1-prod", protection: false }, VPN_URN)).toEqual([]);
  });
});

describe("VNC password snippets", () => {
  const snip = (over: Record<string, unknown> = {}) => ({ contentType: "snippets", fileMode: "0600", sourceRaw: { fileName: "vnc-acme.pw", data: "Ab3#xY9z" }, ...over });

  test("0600 with 8 characters passes; other snippets and other content types are not VNC password files", () => {
    expect(snippetModeViolations(snip())).toEqual([]);
    expect(snippetContentViolations(snip())).toEqual([]);
    expect(snippetModeViolations(snip({ fileMode: "600" }))).toEqual([]);
    expect(snippetModeViolations(snip({ sourceRaw: { fileName: "hook.sh", data: "#!/bin/sh" }, fileMode: "0700" }))).toEqual([]);
    expect(snippetModeViolations(snip({ contentType: "iso", fileMode: undefined }))).toEqual([]);
  });

  test.each([
    [undefined, 'VNC password snippet "vnc-acme.pw" must have fileMode "0600" (root-only); got nothing'],
    ["0644", 'VNC password snippet "vnc-acme.pw" must have fileMode "0600" (root-only); got "0644"'],
  ])("fileMode %s is refused", (fileMode, message) => {
    expect(snippetModeViolations(snip({ fileMode }))).toEqual([message]);
  });

  test("a trailing newline or a longer password is refused, without echoing it", () => {
    const nl = snippetContentViolations(snip({ sourceRaw: { fileName: "vnc-acme.pw", data: "Ab3#xY9\n" } }));
    expect(nl).toEqual(['VNC password snippet "vnc-acme.pw" must hold exactly 8 characters and no newline (QEMU reads it raw and uses 8 bytes); got 8 characters']);
    const long = snippetContentViolations(snip({ sourceRaw: { fileName: "vnc-acme.pw", data: "Ab3#xY9zQQ" } }));
    expect(long).toEqual(['VNC password snippet "vnc-acme.pw" must hold exactly 8 characters and no newline (QEMU reads it raw and uses 8 bytes); got 10 characters']);
    expect(long.join()).not.toContain("Ab3#");
  });
});

describe("no secret in plain text", () => {
  const VM = "proxmoxve:index/vmLegacy:VmLegacy";
  const CMD = "command:remote:Command";
  const KEY = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

  test("file-backed secret objects, scripts on stdin with secret outputs, root-only key snippets pass", () => {
    expect(plaintextSecretViolations(VM, { kvmArguments: GOOD })).toEqual([]);
    expect(plaintextSecretViolations(CMD, { create: "bash -s", stdin: KEY }, ["stdout", "stderr"])).toEqual([]);
    expect(plaintextSecretViolations(CMD, { create: "bash -s", stdin: "echo hi" })).toEqual([]);
    expect(plaintextSecretViolations("proxmoxve:index/fileLegacy:FileLegacy", { contentType: "snippets", fileMode: "0600", sourceRaw: { fileName: "k.pem", data: KEY } })).toEqual([]);
  });

  test("an inline secret object in VM args", () => {
    expect(plaintextSecretViolations(VM, { kvmArguments: "-object secret,id=vncpw,data=Ab3#xY9z -vnc 192.168.100.10:1,password-secret=vncpw" })).toEqual([
      "-object secret,id=vncpw carries its value inline (data=): it lands in the VM config and the process list; use file=<root-only snippet>",
    ]);
  });

  test("key material in a command line, or on stdin with stdout/stderr in the clear", () => {
    expect(plaintextSecretViolations(CMD, { create: `echo '${KEY}' > /etc/openvpn/k`, delete: "rm -f /etc/openvpn/k" })).toEqual([
      'command "create" contains key material: pass it on stdin, never in the command line',
    ]);
    expect(plaintextSecretViolations(CMD, { create: "bash -s", stdin: "-----BEGIN OpenVPN Static key V1-----\n00\n" }, ["stdout"])).toEqual([
      "command feeds key material on stdin but does not mark stderr secret (additionalSecretOutputs)",
    ]);
    expect(plaintextSecretViolations("command:local:Command", { create: "cat", stdin: `-----BEGIN EC PRIVATE KEY-----` })).toEqual([
      "command feeds key material on stdin but does not mark stdout and stderr secret (additionalSecretOutputs)",
    ]);
  });

  test("a world-readable snippet holding a key", () => {
    expect(plaintextSecretViolations("proxmoxve:index/fileLegacy:FileLegacy", { contentType: "snippets", sourceRaw: { fileName: "ta.key", data: "-----BEGIN OpenVPN Static key V1-----" } })).toEqual([
      'snippet "ta.key" contains key material and must have fileMode "0600"; got nothing',
    ]);
  });
});

describe("stack fits its profile", () => {
  const report = (verdict: string, lines: { resource: string; status: string; note: string }[] = []) => ({ profile: "optimal", tenants: 500, verdict, lines });

  test("ok and warn pass", () => {
    expect(capacityViolations(report("ok"))).toEqual([]);
    expect(capacityViolations(report("warn", [{ resource: "ram", status: "warn", note: "91%" }]))).toEqual([]);
  });

  test("each failing line is one violation naming what to change", () => {
    const r = report("fail", [
      { resource: "ram", status: "fail", note: "ram: short by 52 GiB; raise hardware.ramGb" },
      { resource: "disk", status: "ok", note: "" },
      { resource: "power", status: "fail", note: "power: short by 10 W; add power supplies (hardware.psuCount)" },
    ]);
    expect(capacityViolations(r)).toEqual([
      'stack does not fit its profile "optimal" with 500 tenants: ram: ram: short by 52 GiB; raise hardware.ramGb',
      'stack does not fit its profile "optimal" with 500 tenants: power: power: short by 10 W; add power supplies (hardware.psuCount)',
    ]);
    expect(capacityViolations(report("fail"))).toEqual(['stack does not fit its profile "optimal" with 500 tenants (verdict "fail")']);
  });

  test("without a note (the exported summary), the line's figures say the shortfall", () => {
    const c = { profile: "minimal", tenants: 500, verdict: "fail", lines: [{ resource: "ram", status: "fail", needed: 700, available: 128, unit: "GiB" }] };
    expect(capacityViolations(c)).toEqual(['stack does not fit its profile "minimal" with 500 tenants: ram: needs 700 GiB, has 128']);
  });

  test("a missing output or an unknown verdict fails closed", () => {
    expect(capacityViolations(undefined)).toEqual(['the stack exports no "capacityReport" output; index.ts must export the capacity summary so the policy can check it']);
    expect(capacityViolations({ verdict: "fits" })).toEqual(['capacity output has verdict "fits"; expected "ok", "warn" or "fail"']);
  });
});
