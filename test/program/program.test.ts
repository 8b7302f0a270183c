/**
 * The Pulumi program under mocks, for each of the three stacks: exact resource counts per type, names from
 * tenant keys, key inputs, secrets kept secret, and policy-style checks.
 *
 * What mocks cannot prove: parentage and URNs (the mock monitor does not report a resource's parent, so "each
 * tenant owns exactly its 8 resources" is checked by name, not by URN), aliases and URN stability across
 * releases, the engine's own secret marking of `additionalSecretOutputs` (harness.ts mimics it for
 * @pulumi/tls and @pulumi/random), replace-vs-update decisions, and anything the Proxmox API or SSH would
 * say. Those need `pulumi preview` against a real engine (the CI preview job).
 */
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import { renderCcd } from "../../render/ccd";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { FAKE_HOST_KEY, fakeHex, fakeHostKey, fakeMac } from "../../bench/fakes";
import { clientKeyId, serverKeyFile, tenantClientKeyFile } from "../../render/tls-crypt-v2";
import { FAKE_SECRETS, FAKE_SSH_PUBLIC_KEY, ProgramRun, Recorded, byName, countByType, fakeKeyPem, fakePassword, plainStrings, reveal, runProgram, writtenFiles } from "./harness";

const ROOT = `${__dirname}/../..`;
/** Custom resources each Tenant component declares (see components/tenant.ts); fixed mode adds two. */
const PER_TENANT_SUFFIXES = ["vnc-password", "vnc-pw", "console-pw", "vm", "ipfilter", "firewall", "key", "csr", "cert", "tls-crypt-v2", "vpn1", "vpn2"];
const FIXED_MODE_SUFFIXES = ["firewall-rules", "dhcp"];
type Mode = "distinct" | "fixed";

/** Exact count per type for a stack with `n` tenants and an existing template (no template resources). */
function expectedCounts(n: number, mode: Mode): Record<string, number> {
  const fixed = mode === "fixed";
  return {
    // the main provider and the read-only preflight provider (components/preflight.ts)
    "pulumi:providers:proxmoxve": 2,
    "librerouter:host:ProxmoxHost": 1,
    "proxmoxve:network/linux/bridge:Bridge": 2,
    // Proxmox's firewall on at datacenter and node level (the tenants' anti-spoofing filters need it)
    "proxmoxve:cluster/firewallLegacy:FirewallLegacy": 1,
    "proxmoxve:node/firewallLegacy:FirewallLegacy": 1,
    // per tenant: net0's ipfilter IP set and the VM firewall options (macfilter, ipfilter, no radv/dhcp)
    "proxmoxve:firewall/ipsetLegacy:IpsetLegacy": n,
    "proxmoxve:firewall/optionsLegacy:OptionsLegacy": n,
    "librerouter:template:VmTemplate": 1,
    "librerouter:pki:Pki": 1,
    "tls:index/selfSignedCert:SelfSignedCert": 1,
    // the tls-crypt-v2 server key, and each tenant's client key Kc
    "random:index/randomBytes:RandomBytes": n + 1,
    "librerouter:vpn:OpenVpnServer": 2,
    "librerouter:services:CommonServices": 1,
    "librerouter:tenant:Tenant": n,
    // tenants + 2 VPN servers + services
    "proxmoxve:index/vmLegacy:VmLegacy": n + 3,
    "proxmoxve:index/fileLegacy:FileLegacy": n,
    "librerouter:bans:BanGrid": 1,
    // each tenant's VNC password; the ban grid: 4 machine passwords (vpn1, vpn2, host, report gateway), 3 bouncer
    // keys, the report token key (tenants' tokens are derived from it: no resource per tenant)
    "random:index/randomPassword:RandomPassword": n + 8,
    // tenants + 2 servers + the ban grid's LAPI + the 2 console gateways + the CA
    "tls:index/privateKey:PrivateKey": n + 6,
    "tls:index/certRequest:CertRequest": n + 5,
    "tls:index/locallySignedCert:LocallySignedCert": n + 5,
    "librerouter:consoles:ConsoleGateway": 1,
    // 3 per tenant (vpn1, vpn2, the console password to the running VM) + host firewall + the host's serial bridge
    // + 2 server setups + services setup + the host's keyscan of each of the 3 guests + the ban grid (services, its
    // enrolment, vpn1, vpn2, host) + the 2 console gateways + the monitoring's one per machine (vpn1, vpn2, services,
    // the node); fixed mode: each tenant's DHCP reservation and the services VM's DHCP server
    "command:remote:Command": 3 * n + 19 + (fixed ? n + 1 : 0),
    "librerouter:monitoring:Monitoring": 1,
    // fixed mode: the no-DHCP-server security group, and each tenant VM's rule set that puts net0 in it
    ...(fixed ? { "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy": 1, "proxmoxve:firewall/rulesLegacy:RulesLegacy": n } : {}),
  };
}

const STACKS = [
  { stack: "minimal", tenants: 50, mode: "distinct" },
  { stack: "prod", tenants: 500, mode: "fixed" },
  { stack: "full", tenants: 500, mode: "fixed" },
] as const;

const runs = new Map<string, ProgramRun>();
const seconds = new Map<string, number>();

beforeAll(async () => {
  for (const { stack } of STACKS) {
    const t0 = Date.now();
    runs.set(stack, await runProgram(stack, readStackFile(ROOT, stack)));
    seconds.set(stack, (Date.now() - t0) / 1000);
  }
  // Reported, not asserted: performance goals are benchmarks, not timed tests.
  process.stdout.write(`program under mocks: ${[...seconds].map(([s, t]) => `${s} ${t.toFixed(1)} s`).join(", ")}\n`);
}, 300_000);

describe.each(STACKS)("stack $stack ($mode tenant network)", ({ stack, tenants, mode }) => {
  const run = () => runs.get(stack) as ProgramRun;
  const plan = buildPlan(readStackFile(ROOT, stack), stack);

  test("loads without error", () => {
    expect(run().error).toBeUndefined();
    expect(plan.tenants).toHaveLength(tenants);
    expect(plan.tenantNetwork.mode).toBe(mode);
  });

  test(`exact resource count per type (${mode === "fixed" ? "14 custom resources per tenant + 56" : "12 custom resources per tenant + 54"} shared)`, () => {
    expect(countByType(run().resources)).toEqual(expectedCounts(tenants, mode));
    expect(run().resources.filter((r) => r.custom)).toHaveLength(mode === "fixed" ? 14 * tenants + 56 : 12 * tenants + 54);
  });

  test("every tenant's resources are named from its key, exactly once each", () => {
    const names = new Set(run().resources.map((r) => r.name));
    expect(names.size).toBe(run().resources.length);
    const suffixes = mode === "fixed" ? [...PER_TENANT_SUFFIXES, ...FIXED_MODE_SUFFIXES] : PER_TENANT_SUFFIXES;
    const perTenant = run().resources.filter((r) => r.name.startsWith("tenant-"));
    expect(perTenant).toHaveLength(tenants * (suffixes.length + 1));
    for (const t of plan.tenants) {
      expect(names.has(`tenant-${t.key}`)).toBe(true);
      for (const suffix of suffixes) expect(names.has(`tenant-${t.key}-${suffix}`)).toBe(true);
    }
  });

  test("every custom resource uses the one explicit proxmox provider or its own package's default", () => {
    for (const r of run().resources.filter((x) => x.custom && x.type.startsWith("proxmoxve:"))) {
      expect(r.provider).toMatch(/::pulumi:providers:proxmoxve::proxmox::/);
    }
  });

  test("no plain input anywhere holds a private key, a password or the SSH key", () => {
    const secrets = [
      "PRIVATE KEY",
      "OpenVPN tls-crypt-v2",
      FAKE_SECRETS.proxmoxPassword,
      ...plan.tenants.map((t) => fakePassword(`tenant-${t.key}-vnc-password`)),
    ];
    // One alternation of the literal secrets instead of secrets × strings `includes` calls (500 tenants).
    const anySecret = new RegExp(secrets.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));
    const leaks = run().resources.flatMap((r) =>
      plainStrings(r.inputs)
        .filter((s) => anySecret.test(s.text))
        .map((s) => `${r.name}.${s.path}`),
    );
    expect(leaks).toEqual([]);
  });

  test("policy: VNC listens only on the host's management address, always with a password secret", () => {
    const vms = run().resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy" && r.inputs.kvmArguments !== undefined);
    expect(vms).toHaveLength(tenants);
    for (const vm of vms) {
      const args = String(vm.inputs.kvmArguments);
      const vnc = [...args.matchAll(/-vnc ([^ ,]+)(\S*)/g)];
      expect(vnc).toHaveLength(1);
      expect(vnc[0][1]).toBe(`${plan.host.mgmtIp}:${plan.tenants.find((t) => t.vmid === vm.inputs.vmId)?.vnc.display}`);
      // The password comes from a file-backed secret object holding the VM's own snippet.
      const secretId = /,password-secret=([^ ,]+)/.exec(vnc[0][2])?.[1];
      expect(args).toContain(`-object secret,id=${secretId},file=${plan.proxmox.snippetsPath}/vnc-${vm.inputs.vmId}.pw`);
    }
  });

  test("policy: every tenant VM is a protected linked clone of the template", () => {
    for (const t of plan.tenants) {
      const vm = byName(run().resources, `tenant-${t.key}-vm`).inputs;
      expect(vm.protection).toBe(true);
      expect(vm.clone).toEqual({ vmId: plan.templates.vmid, full: false, retries: 5 });
    }
  });

  test("outputs: tenant info is plain and keyed by tenant key; passwords and bundles are secret", () => {
    const info = run().outputs.tenantInfo;
    expect(info.secret).toBe(false);
    expect(Object.keys(info.value as object).sort()).toEqual(plan.tenants.map((t) => t.key).sort());
    const secrets = run().outputs.tenantSecrets;
    expect(secrets.secret).toBe(true);
    const sample = plan.tenants[0];
    const s = (secrets.value as Record<string, { vncPassword: string; clientBundle: string; launcher: string; readme: string }>)[sample.key];
    expect(s.vncPassword).toBe(fakePassword(`tenant-${sample.key}-vnc-password`));
    // The hand-out README names the console pages tenantInfo lists, and no password.
    const pages = (info.value as Record<string, { consolePages: Record<string, string> }>)[sample.key].consolePages;
    expect(Object.keys(pages).sort()).toEqual(plan.instances.map((i) => i.id).sort());
    for (const url of Object.values(pages)) expect(s.readme).toContain(url);
    expect(s.readme).not.toContain(s.vncPassword);
    expect(s.clientBundle).toContain(fakeKeyPem(`tenant-${sample.key}-key`).trimEnd());
    expect(s.launcher.startsWith("#!/bin/sh")).toBe(true);
    expect(JSON.stringify(info.value)).not.toContain(s.vncPassword);
    expect(run().outputs.capacityReport.secret).toBe(false);
  });
});

describe("stack minimal: key inputs", () => {
  const run = () => runs.get("minimal") as ProgramRun;
  const get = (name: string): Recorded => byName(run().resources, name);

  test("tenant acme's VM", () => {
    const vm = get("tenant-acme-vm").inputs;
    expect({
      nodeName: vm.nodeName,
      vmId: vm.vmId,
      name: vm.name,
      clone: vm.clone,
      memory: vm.memory,
      cpu: vm.cpu,
      disks: vm.disks,
      networkDevices: vm.networkDevices,
      initialization: vm.initialization,
      kvmArguments: vm.kvmArguments,
      serialDevices: vm.serialDevices,
      protection: vm.protection,
    }).toEqual({
      nodeName: "pve1",
      vmId: 1001,
      name: "lr-acme",
      clone: { vmId: 9000, full: false, retries: 5 },
      memory: { dedicated: 2048, floating: 512 },
      cpu: { cores: 1 },
      disks: [{ interface: "scsi0", size: 32, datastoreId: "local-lvm", discard: "on", ssd: true }],
      networkDevices: [
        { bridge: "vmbr0", model: "virtio", firewall: true },
        { bridge: "vmbr1", model: "virtio", vlanId: 101 },
      ],
      initialization: {
        datastoreId: "local-lvm",
        ipConfigs: [{ ipv4: { address: "192.0.2.6/24", gateway: "192.0.2.1" } }, { ipv4: { address: "10.0.1.1/24" } }],
        dns: { servers: ["192.0.2.5"] },
        upgrade: false,
      },
      kvmArguments: "-object secret,id=vncpw-acme,file=/var/lib/vz/snippets/vnc-1001.pw -vnc 192.168.100.10:101,id=tenant,password-secret=vncpw-acme",
      // The text console: Proxmox's serial0 socket, which the host's serial bridge attaches.
      serialDevices: [{ device: "socket" }],
      protection: true,
    });
  });

  test("tenant acme's VNC password snippet: 0600, exactly the 8-char password, secret", () => {
    const f = get("tenant-acme-vnc-pw").inputs;
    expect(reveal(f)).toEqual({
      nodeName: "pve1",
      datastoreId: "local",
      contentType: "snippets",
      fileMode: "0600",
      sourceRaw: { data: fakePassword("tenant-acme-vnc-password"), fileName: "vnc-1001.pw" },
    });
    // The secret data makes the whole sourceRaw block secret on the wire (fileName included).
    expect(plainStrings(f.sourceRaw)).toEqual([]);
    expect(get("tenant-acme-vnc-password").inputs).toMatchObject({ length: 8 });
  });

  test("tenant acme's public NIC may claim only its own MAC and address: no RA, no DHCP server", () => {
    expect(get("tenant-acme-ipfilter").inputs).toEqual({ nodeName: "pve1", vmId: 1001, name: "ipfilter-net0", comment: "tenant acme: its public address only", cidrs: [{ name: "192.0.2.6" }] });
    expect(get("tenant-acme-firewall").inputs).toEqual({
      nodeName: "pve1",
      vmId: 1001,
      enabled: true,
      macfilter: true,
      ipfilter: true,
      dhcp: false,
      ndp: false,
      radv: false,
      inputPolicy: "ACCEPT",
      outputPolicy: "ACCEPT",
    });
    expect(get("host-datacenter-firewall").inputs).toEqual({ enabled: true, ebtables: true, inputPolicy: "ACCEPT", outputPolicy: "ACCEPT", forwardPolicy: "ACCEPT" });
    expect(get("host-node-firewall").inputs).toEqual({ nodeName: "pve1", enabled: true, nftables: false });
  });

  test("tenant acme's client certificate: clientAuth, early renewal, CN = key", () => {
    expect(get("tenant-acme-csr").inputs.subject).toEqual({ commonName: "acme" });
    expect(get("tenant-acme-cert").inputs).toMatchObject({
      allowedUses: ["digital_signature", "key_agreement", "client_auth"],
      validityPeriodHours: 825 * 24,
      earlyRenewalHours: 30 * 24,
    });
    expect(get("tenant-acme-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  });

  test("tenant acme's tls-crypt-v2 key: 256 random bytes renewed with its private key, wrapped into the secret bundle, its key id pinned in plain", () => {
    expect(get("tenant-acme-tls-crypt-v2").inputs).toEqual({ length: 256, keepers: { certKey: expect.any(String) } });
    const kc = fakeHex("tenant-acme-tls-crypt-v2", 512);
    const key = tenantClientKeyFile(serverKeyFile(fakeHex("pki-tls-crypt-v2", 256)), kc, "acme");
    const bundles = run().outputs.tenantSecrets.value as Record<string, { clientBundle: string }>;
    expect(bundles["acme"].clientBundle).toContain(`<tls-crypt-v2>\n${key.trimEnd()}\n</tls-crypt-v2>`);
    expect(bundles["acme"].clientBundle).not.toMatch(/<tls-crypt>|Static key/);
    for (const vpn of ["vpn1", "vpn2"]) {
      const stdin = get(`tenant-acme-${vpn}`).inputs.stdin;
      expect(typeof stdin).toBe("string"); // not secret: the pin is a hash prefix, the script carries no key
      expect(writtenFiles(String(stdin)).get(`${PRODUCTION_SERVER_LAYOUT.openvpnDir}/tc2-pins/acme`)).toEqual({ mode: "0640", content: `${clientKeyId(kc)}\n` });
    }
  });

  test("tenant acme's command on vpn1: apply and delete on stdin, re-run in place, through the host, host keys pinned", () => {
    const c = get("tenant-acme-vpn1").inputs;
    // No triggers: a changed stdin is an update, never a replacement that ends with the old delete.
    expect(Object.keys(c).sort()).toEqual(["addPreviousOutputInEnv", "connection", "create", "delete", "stdin", "update"]);
    // The VPN VM's net0 MAC rides in stdin: a rebuilt vpn1 re-runs every tenant's apply on it.
    expect(String(c.stdin).split("\n")[0]).toBe(`# target: ${fakeMac("vpn1-vm#0")}`);
    expect({ create: c.create, update: c.update, delete: c.delete }).toEqual({ create: "bash -s apply", update: "bash -s apply", delete: "bash -s delete" });
    const stdin = String(c.stdin);
    const plan = buildPlan(readStackFile(ROOT, "minimal"), "minimal");
    const acme = plan.tenants[0];
    const files = writtenFiles(stdin);
    const dir = PRODUCTION_SERVER_LAYOUT.openvpnDir;
    expect(files.get(`${dir}/ccd-udp/acme`)).toEqual({ mode: "0640", content: renderCcd(plan.stack, acme, plan.instances[0]) });
    expect(files.get(`${dir}/ccd-udp/acme`)?.content).toContain("ifconfig-push 10.255.0.2 255.255.192.0\n");
    expect(files.get(`${dir}/ccd-tcp/acme`)?.content).toContain("ifconfig-push 10.255.64.2 255.255.192.0\n");
    expect(files.get(`${dir}/pins/acme`)).toEqual({ mode: "0640", content: "3f0c6b1e9a7d4c2b8e5f1a0d6c3b9e7f2a4d8c1b5e9f3a7d0c6b2e8f4a1d5c9b\n" });
    // The delete script rides along: it removes the ccd files first.
    expect(stdin).toMatch(/cat >"\$d\/delete" <<'__LIBREROUTER_SCRIPT_END__'\n#!\/bin\/bash\n# Delete tenant acme on vpn1/);
    expect(reveal(c.connection)).toEqual({
      host: "192.168.100.11",
      user: "root",
      port: 22,
      privateKey: FAKE_SECRETS.sshPrivateKey,
      dialErrorLimit: 40,
      perDialTimeout: 15,
      hostKey: fakeHostKey("vpn1-hostkey"),
      proxy: { host: "pve-minimal.example.net", port: 22, user: "root", privateKey: FAKE_SECRETS.sshPrivateKey, dialErrorLimit: 20, perDialTimeout: 15, hostKey: FAKE_HOST_KEY },
    });
  });

  test("vpn1's VM: full clone of the Debian template, public / trunk of the tenant VLANs / management", () => {
    const vm = get("vpn1-vm").inputs;
    expect({ vmId: vm.vmId, clone: vm.clone, networkDevices: vm.networkDevices, initialization: vm.initialization, memory: vm.memory }).toEqual({
      vmId: 200,
      clone: { vmId: 9001, full: true, datastoreId: "local-lvm", retries: 5 },
      // No `trunks`: bpg cannot parse a range; PVE trunks an untagged NIC on a VLAN-aware bridge in 2-4094.
      networkDevices: [
        { bridge: "vmbr0", model: "virtio" },
        { bridge: "vmbr1", model: "virtio" },
        { bridge: "vmbr2", model: "virtio" },
      ],
      initialization: {
        datastoreId: "local-lvm",
        ipConfigs: [{ ipv4: { address: "192.0.2.3/24", gateway: "192.0.2.1" } }, {}, { ipv4: { address: "192.168.100.11/24" } }],
        userAccount: { username: "root", keys: [FAKE_SSH_PUBLIC_KEY] },
        upgrade: false,
      },
      memory: { dedicated: 1024 },
    });
  });

  test("vpn1's setup command: one secret script with both instances, hooks and PKI; no logging", () => {
    const c = get("vpn1-setup").inputs;
    expect(c.stdin).toMatchObject({ value: expect.any(String) });
    expect(plainStrings(c.stdin)).toEqual([]);
    expect(c.triggers).toBeUndefined();
    expect(c.logging).toBe("none");
    const script = String(reveal(c.stdin));
    expect(script.split("\n")[0]).toBe(`# target: ${fakeMac("vpn1-vm#0")}`);
    const dir = PRODUCTION_SERVER_LAYOUT.openvpnDir;
    for (const path of [`${dir}/udp.conf`, `${dir}/tcp.conf`, `${dir}/hooks/auth-verify.sh`, `${dir}/pki/server.key`, `${dir}/pki/tls-crypt-v2-server.key`, `${dir}/hooks/tls-crypt-v2-verify.sh`]) {
      expect(script).toContain(path);
    }
    const files = writtenFiles(script);
    expect(files.get(`${dir}/pki/server.key`)).toEqual({ mode: "0600", content: fakeKeyPem("vpn1-key") });
    // The server key from the Pki's 128 random bytes, the same on both servers; no tls-crypt v1 group key any more.
    expect(files.get(`${dir}/pki/tls-crypt-v2-server.key`)).toEqual({ mode: "0600", content: serverKeyFile(fakeHex("pki-tls-crypt-v2", 256)) });
    expect(writtenFiles(String(reveal(get("vpn2-setup").inputs.stdin))).get(`${dir}/pki/tls-crypt-v2-server.key`)).toEqual(files.get(`${dir}/pki/tls-crypt-v2-server.key`));
    expect([...files.keys()].filter((f) => /tls-crypt\.key$/.test(f))).toEqual([]);
    expect(files.get(`${dir}/udp.conf`)?.content).toContain(`\ntls-crypt-v2 ${dir}/pki/tls-crypt-v2-server.key force-cookie\ntls-crypt-v2-verify ${dir}/hooks/tls-crypt-v2-verify.sh\n`);
    expect(files.get(`${dir}/udp.conf`)?.content).toContain("proto udp4\n");
    expect(files.get(`${dir}/tcp.conf`)?.content).toContain("proto tcp4-server\n");
    expect(get("vpn1-csr").inputs.subject).toEqual({ commonName: "lr-vpn1" });
    expect(get("vpn1-cert").inputs.allowedUses).toEqual(["digital_signature", "key_agreement", "server_auth"]);
  });

  test("the provider: root@pam with the secret password, SSH with the secret key", () => {
    const p = get("proxmox");
    expect(p.type).toBe("pulumi:providers:proxmoxve");
    expect(plainStrings(p.inputs).some((s) => s.text.includes(FAKE_SECRETS.proxmoxPassword) || s.text.includes("PRIVATE KEY"))).toBe(false);
    const revealed = reveal(p.inputs) as Record<string, unknown>;
    expect(revealed.endpoint).toBe("https://pve-minimal.example.net:8006/");
    expect(revealed.username).toBe("root@pam");
    expect(revealed.password).toBe(FAKE_SECRETS.proxmoxPassword);
    expect(JSON.stringify(revealed.ssh)).toContain("BEGIN OPENSSH PRIVATE KEY");
  });

  test("the services command: BIND with the reverse zones of both pools, through the host", () => {
    const c = get("services-setup").inputs;
    const files = writtenFiles(String(c.stdin));
    expect([...files.keys()].sort()).toEqual([
      "/etc/bind/librerouter/100.51.198.in-addr.arpa.zone",
      "/etc/bind/librerouter/2.0.192.in-addr.arpa.zone",
      "/etc/bind/named.conf.librerouter",
      "/etc/bind/named.conf.options",
      // the public side's INPUT policy (DNS only) and its boot unit
      "/etc/librerouter/services-firewall",
      "/etc/systemd/system/librerouter-services-firewall.service",
    ]);
    expect(files.get("/etc/bind/librerouter/2.0.192.in-addr.arpa.zone")?.content).toContain("6\tIN\tPTR\tacme.tenants.minimal.example.net.\n");
    expect(reveal(c.connection)).toMatchObject({ host: "192.168.100.13", hostKey: fakeHostKey("services-hostkey"), proxy: { host: "pve-minimal.example.net", hostKey: FAKE_HOST_KEY } });
    expect(String(c.stdin).split("\n")[0]).toBe(`# target: ${fakeMac("services-vm#0")}`);
  });

  test("the monitoring: one command per machine, to that machine, after its ban-grid member (one apt at a time there), set up again on a rebuilt VM", () => {
    const plan = buildPlan(readStackFile(ROOT, "minimal"), "minimal");
    const deps = (name: string) => get(name).options.dependencies.map((u) => run().resources.find((r) => r.urn === u)?.name).sort();
    const certs = [...plan.tenants.map((t) => `tenant-${t.key}-cert`), "pki-ca-cert"];
    // Order: the ban grid's member on that machine (bans-vpnN, bans-host, the grid's enrolment on the services VM), the
    // guest's host key and VM (connection, target); the services VM's also every certificate whose end it reports.
    // (consoles-vpnN waits on bans-vpnN too: it and monitoring-vpnN are not ordered against each other.)
    expect(deps("monitoring-vpn1")).toEqual(["bans-vpn1", "vpn1-hostkey", "vpn1-vm"]);
    expect(deps("monitoring-vpn2")).toEqual(["bans-vpn2", "vpn2-hostkey", "vpn2-vm"]);
    expect(deps("monitoring-services")).toEqual(["bans-services-enrol", "services-hostkey", "services-vm", ...certs].sort());
    expect(deps("monitoring-pve1")).toEqual(["bans-host", "host-console-firewall", "host-datacenter-firewall", "host-mgmt-bridge", "host-node-firewall", "host-private-bridge", "host-serial-bridge"]);
    for (const [name, ip, vm] of [["monitoring-vpn1", "192.168.100.11", "vpn1-vm"], ["monitoring-vpn2", "192.168.100.12", "vpn2-vm"], ["monitoring-services", "192.168.100.13", "services-vm"]]) {
      const c = get(name).inputs;
      expect(reveal(c.connection)).toMatchObject({ host: ip, proxy: { host: "pve-minimal.example.net", hostKey: FAKE_HOST_KEY } });
      expect(String(c.stdin).split("\n")[0]).toBe(`# target: ${fakeMac(`${vm}#0`)}`);
    }
    expect(reveal(get("monitoring-pve1").inputs.connection)).toMatchObject({ host: "pve-minimal.example.net", hostKey: FAKE_HOST_KEY });
    expect(String(get("monitoring-pve1").inputs.stdin)).not.toContain("# target:");
    // No webhook configured: nothing secret in the figures; the services VM's lists every tenant's end and the CA's.
    const rows = writtenFiles(String(get("monitoring-services").inputs.stdin))
      .get("/var/lib/prometheus/node-exporter/lr-certs.prom")
      ?.content.split("\n")
      .filter((l) => l.startsWith("lr_cert_"));
    expect(rows?.map((l) => /name="([^"]+)"/.exec(l)?.[1])).toEqual([...plan.tenants.map((t) => t.key).sort(), "ca"]);
  });

  test("the host learns each guest's SSH key on the management bridge, again when the VM is rebuilt", () => {
    for (const [name, ip, vm] of [["vpn1-hostkey", "192.168.100.11", "vpn1-vm"], ["vpn2-hostkey", "192.168.100.12", "vpn2-vm"], ["services-hostkey", "192.168.100.13", "services-vm"]]) {
      const c = get(name).inputs;
      expect(reveal(c.connection)).toMatchObject({ host: "pve-minimal.example.net", hostKey: FAKE_HOST_KEY });
      expect(String(c.stdin).split("\n")[0]).toBe(`# target: ${fakeMac(`${vm}#0`)}`);
      expect(String(c.stdin)).toContain(`ssh-keyscan -T 5 -t ed25519 ${ip}`);
    }
  });

  test("the options the engine decides update vs replace with (recorded from the RegisterResource requests)", () => {
    const commands = run().resources.filter((r) => r.type === "command:remote:Command");
    expect(commands).toHaveLength(3 * 50 + 19);
    for (const c of commands) {
      // The SDK adds `triggers[*]` to every Command (remote/command.js); we never set triggers, so it never fires.
      expect({ name: c.name, triggers: c.inputs.triggers, replaceOnChanges: c.options.replaceOnChanges, dbr: c.options.deleteBeforeReplace }).toEqual({
        name: c.name,
        triggers: undefined,
        replaceOnChanges: ["triggers[*]"],
        dbr: undefined,
      });
    }
    const opts = (name: string) => {
      const o = get(name).options;
      return { protect: o.protect, ignoreChanges: o.ignoreChanges, deleteBeforeReplace: o.deleteBeforeReplace, retainOnDelete: o.retainOnDelete };
    };
    // Tenant VMs: never replaced (clone.* is ForceNew in bpg), never deleted without a deliberate unprotect.
    expect(opts("tenant-acme-vm")).toEqual({ protect: true, ignoreChanges: ["clone"], deleteBeforeReplace: undefined, retainOnDelete: undefined });
    // Infrastructure VMs: fixed VMIDs, so a deliberate replacement must delete first.
    for (const vm of ["vpn1-vm", "vpn2-vm", "services-vm"]) expect(opts(vm)).toEqual({ protect: undefined, ignoreChanges: ["clone"], deleteBeforeReplace: true, retainOnDelete: undefined });
    // The password snippet: same path on replacement, so delete the old file first.
    expect(opts("tenant-acme-vnc-pw")).toEqual({ protect: undefined, ignoreChanges: [], deleteBeforeReplace: true, retainOnDelete: undefined });
    // The commands that carry a console password's revision or the gateways' TLS keys: secret stdin, nothing logged,
    // outputs secret; the password goes to the running VM only after its snippet file is written.
    for (const name of ["tenant-acme-console-pw", "consoles-vpn1", "consoles-vpn2"]) {
      const c = get(name);
      expect([name, plainStrings(c.inputs.stdin), c.inputs.logging, c.options.additionalSecretOutputs]).toEqual([name, [], "none", ["stdout", "stderr", "connection"]]);
    }
    expect(get("tenant-acme-console-pw").options.dependencies).toEqual(expect.arrayContaining([get("tenant-acme-vnc-pw").urn, get("tenant-acme-vm").urn]));
    expect(get("consoles-vpn1").options.dependencies).toEqual(expect.arrayContaining([get("vpn1-setup").urn, get("bans-vpn1").urn]));
    expect(get("host-serial-bridge").options.dependencies).toEqual([get("host-console-firewall").urn]);
  });

  test("the bridges: VLAN-aware private trunk, management with the host's address", () => {
    expect(get("host-private-bridge").inputs).toMatchObject({ nodeName: "pve1", name: "vmbr1", vlanAware: true });
    expect(get("host-mgmt-bridge").inputs).toMatchObject({ nodeName: "pve1", name: "vmbr2", address: "192.168.100.10/24" });
  });
});
