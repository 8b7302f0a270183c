/** The policy pack's pure checks (policy/rules.ts): exact messages, good and bad inputs. */
import {
  capacityViolations,
  consoleViolations,
  isTenantVm,
  parentTypes,
  plaintextSecretViolations,
  snippetContentViolations,
  snippetModeViolations,
  tenantVmViolations,
} from "../../policy/rules";

/** What the Tenant component passes (verified on QEMU 7.2). */
const GOOD = "-object secret,id=vncpw-acme,file=/var/lib/vz/snippets/vnc-1001.pw -vnc 192.168.100.10:101,id=tenant,password-secret=vncpw-acme";

describe("VNC console: no public or wildcard listener, password auth (render/vnc.ts assertConsoleSafe)", () => {
  test("the management address with a file-backed password passes; so do password=on, unix sockets and no args", () => {
    expect(consoleViolations(GOOD)).toEqual([]);
    expect(consoleViolations("-vnc 192.168.100.10:1,id=tenant,password=on")).toEqual([]);
    expect(consoleViolations("-vnc unix:/run/t.vnc")).toEqual([]);
    expect(consoleViolations(undefined)).toEqual([]);
    expect(consoleViolations("")).toEqual([]);
  });

  test.each([
    ["-vnc 0.0.0.0:3149,password=on", "console args: -vnc 0.0.0.0:3149 listens on 0.0.0.0; use the host's management address"],
    ["-vnc :3149,password=on", "console args: -vnc :3149 listens on every address; use the host's management address"],
    ["-vnc [::]:1,password=on", "console args: -vnc [::]:1 listens on [::]; use the host's management address"],
    ["-vnc 198.51.100.7:101,password=on", "console args: -vnc 198.51.100.7:101 listens on 198.51.100.7; use the host's management address"],
    ["-vnc 192.168.100.10:101,id=tenant", "console args: -vnc 192.168.100.10:101 has no password-secret= (QEMU would offer security type None)"],
    ["-vnc 192.168.100.10:101,password-secret=pw", "console args: -vnc 192.168.100.10:101 names password-secret=pw but no -object secret,id=pw is given"],
    ["-object secret,id=pw,data=Ab3xY9zq -vnc 192.168.100.10:101,password-secret=pw", "console args: secret pw must come from file=, not data= (it would sit in the VM config)"],
  ])("%s", (args, message) => {
    expect(consoleViolations(args)).toEqual([message]);
  });

  test("the seed's recipe (0.0.0.0, no password) is refused; the message never carries a password", () => {
    expect(consoleViolations("-vnc 0.0.0.0:3149")).toEqual(["console args: -vnc 0.0.0.0:3149 listens on 0.0.0.0; use the host's management address"]);
    expect(consoleViolations("-object secret,id=pw,data=Ab3xY9zq -vnc 192.168.100.10:1,password-secret=pw").join()).not.toContain("Ab3xY9zq");
  });
});

describe("tenant VMs are protected linked clones", () => {
  const TENANT_URN = "urn:pulumi:prod::librerouter-hosting::librerouter:tenant:Tenant$proxmoxve:index/vmLegacy:VmLegacy::tenant-acme-vm";
  const VPN_URN = "urn:pulumi:prod::librerouter-hosting::librerouter:vpn:OpenVpnServer$proxmoxve:index/vmLegacy:VmLegacy::vpn1-vm";

  test("parent types come from the URN's type chain", () => {
    expect(parentTypes(TENANT_URN)).toEqual(["librerouter:tenant:Tenant"]);
    expect(parentTypes("urn:pulumi:s::p::proxmoxve:index/vmLegacy:VmLegacy::x")).toEqual([]);
  });

  test("lr-<key> VMs are tenants unless a non-tenant component owns them (a VPN server VM is not a tenant whatever its name)", () => {
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

  test("an inline secret object in VM args, even one no display uses", () => {
    expect(plaintextSecretViolations(VM, { kvmArguments: `-object secret,id=vncpw,data=Ab3#xY9z ${GOOD}` })).toEqual([
      "-object secret,id=vncpw carries its value inline (data=): it lands in the VM config and the process list; use file=<root-only snippet>",
    ]);
    expect(plaintextSecretViolations(VM, { kvmArguments: "--object secret,data=Ab3#xY9z,id=s2" })).toEqual([
      "-object secret,id=s2 carries its value inline (data=): it lands in the VM config and the process list; use file=<root-only snippet>",
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
    // tls-crypt-v2 keys (render/tls-crypt-v2.ts) are key material too: the server key rides in the setup script.
    for (const kind of ["server", "client"]) {
      expect(plaintextSecretViolations(CMD, { create: "bash -s", stdin: `-----BEGIN OpenVPN tls-crypt-v2 ${kind} key-----\n00\n` }, ["stdout"])).toEqual([
        "command feeds key material on stdin but does not mark stderr secret (additionalSecretOutputs)",
      ]);
    }
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

  test("a line without a note: its figures say the shortfall", () => {
    const c = { profile: "minimal", tenants: 500, verdict: "fail", lines: [{ resource: "ram", status: "fail", needed: 700, available: 128, unit: "GiB" }] };
    expect(capacityViolations(c)).toEqual(['stack does not fit its profile "minimal" with 500 tenants: ram: needs 700 GiB, has 128']);
  });

  test("a missing output or an unknown verdict fails closed", () => {
    expect(capacityViolations(undefined)).toEqual(['the stack exports no "capacityReport" output; index.ts must export the capacity summary so the policy can check it']);
    expect(capacityViolations({ verdict: "fits" })).toEqual(['capacity output has verdict "fits"; expected "ok", "warn" or "fail"']);
  });
});
