/**
 * The acceptance stack: inputs validated with the flag, the variable and the fix; the stack file it writes
 * passes the project's own config validation and the Pulumi CLI's required-config rule; a rewrite keeps the
 * secrets and the encryption salt; the plan JSON and the client bundle are read the way the script needs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { planJson } from "../../cli/plan-table";
import { readStackFile } from "../../config/load";
import { compileStack } from "../../stack/compile";
import { judgeConsole, wrongPassword } from "../../acceptance/console";
import { ADDED_TENANT, INITIAL_TENANTS, InputError, acceptanceConfig, inputsFromEnv, mergeStackFile } from "../../acceptance/stack";
import { selectConnection, targetLines, targetsFromPlan, tenantSecret } from "../../acceptance/targets";

const ROOT = resolve(__dirname, "../..");
const ENV = {
  ACC_ENDPOINT: "https://pve-test.example.net:8006/",
  ACC_NODE: "pve-test",
  ACC_PUBLIC_POOL: "203.0.113.0/28",
  ACC_PUBLIC_GATEWAY: "203.0.113.1",
  ACC_RESERVED: "203.0.113.14",
  ACC_INSECURE: "true",
  ACC_SSH_HOST_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestHostKey",
};

describe("inputsFromEnv", () => {
  it("reads the inputs with their defaults", () => {
    expect(inputsFromEnv(ENV)).toEqual({
      endpoint: "https://pve-test.example.net:8006/",
      node: "pve-test",
      insecure: true,
      publicPool: "203.0.113.0/28",
      publicGateway: "203.0.113.1",
      reserved: ["203.0.113.14"],
      templateVmid: 9000,
      serverTemplateVmid: 9001,
      datastore: "local-lvm",
      snippetsDatastore: "local",
      vmidBase: 7000,
      sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestHostKey",
    });
  });

  it("lists every bad input with its flag, its variable and an example", () => {
    let err: unknown;
    try {
      inputsFromEnv({ ACC_ENDPOINT: "http://pve:8006/", ACC_PUBLIC_POOL: "203.0.113.5/28", ACC_PUBLIC_GATEWAY: "x", ACC_RESERVED: "1.2.3.4,nope", ACC_TEMPLATE_VMID: "9k", ACC_SSH_HOST_KEY: "pve ssh-ed25519 AAAA" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([
      '--endpoint (ACC_ENDPOINT) must be the https URL of the Proxmox API, got "http://pve:8006/"; e.g. https://pve-test.example.net:8006/',
      "--node (ACC_NODE) is required; e.g. pve1",
      '--public-pool (ACC_PUBLIC_POOL) must be a network in CIDR form with host bits zero, got "203.0.113.5/28"; e.g. 203.0.113.0/28',
      '--public-gateway (ACC_PUBLIC_GATEWAY) must be an IPv4 address, got "x"; e.g. 203.0.113.1',
      '--reserved (ACC_RESERVED) must be comma-separated IPv4 addresses, got "1.2.3.4,nope"; e.g. 203.0.113.14,203.0.113.15',
      '--template-vmid (ACC_TEMPLATE_VMID) must be a whole number from 100 to 999999999, got "9k"; e.g. 9000',
      '--ssh-host-key (ACC_SSH_HOST_KEY) must be one key as ssh-keyscan prints it, without the host name; e.g. "ssh-ed25519 AAAA…" (ssh-keyscan -t ed25519 <host>, without the host name; pulumi up refuses an unpinned host)',
    ]);
  });
});

describe("the stack file", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "lr-acc-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, `Pulumi.${name}.yaml`), text);

  it("plans two tenants, then three, with the project's own validation and capacity check", () => {
    write("acc", mergeStackFile("", acceptanceConfig(inputsFromEnv(ENV), false)));
    const two = compileStack(readStackFile(dir, "acc"), "acc").plan;
    expect(two.tenants.map((t) => [t.key, t.slot, t.vmid, t.publicIp, t.routerIp])).toEqual([
      ["acc-a", 1, 7001, "203.0.113.6", "10.0.1.1"],
      ["acc-b", 2, 7002, "203.0.113.7", "10.0.2.1"],
    ]);
    write("acc3", mergeStackFile(readFileSync(join(dir, "Pulumi.acc.yaml"), "utf8"), acceptanceConfig(inputsFromEnv(ENV), true)));
    // The same stack a step later (its name feeds the tenants' MACs), written beside the first file.
    const three = compileStack(readStackFile(dir, "acc3"), "acc").plan;
    expect(three.tenants.map((t) => t.key)).toEqual([...INITIAL_TENANTS.map((t) => t.key), ADDED_TENANT.key]);
    // Adding acc-c moves nothing of acc-a and acc-b (slots fix every address).
    expect(three.tenants.slice(0, 2)).toEqual(two.tenants);
  });

  it("sets every key Pulumi.yaml declares without a default (the CLI refuses the stack otherwise), except the two secrets", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default?: unknown; value?: unknown; secret?: boolean }> };
    const required = Object.entries(project.config).filter(([, d]) => d.default === undefined && d.value === undefined).map(([k]) => k);
    const set = Object.keys(acceptanceConfig(inputsFromEnv(ENV), false));
    expect(required.filter((k) => !set.includes(k))).toEqual(["proxmoxPassword", "sshPrivateKey"]);
    expect(set.filter((k) => !(k in project.config))).toEqual([]);
  });

  it("a rewrite keeps the encryption salt and the secure secrets, and replaces only its own keys", () => {
    const before = [
      "encryptionsalt: v1:abc=",
      "config:",
      "  librerouter-hosting:proxmoxPassword:",
      "    secure: v1:xyz",
      "  librerouter-hosting:tenants:",
      "    old: { slot: 9 }",
      "",
    ].join("\n");
    const after = parse(mergeStackFile(before, acceptanceConfig(inputsFromEnv(ENV), true))) as { encryptionsalt: string; config: Record<string, unknown> };
    expect(after.encryptionsalt).toBe("v1:abc=");
    expect(after.config["librerouter-hosting:proxmoxPassword"]).toEqual({ secure: "v1:xyz" });
    expect(Object.keys(after.config["librerouter-hosting:tenants"] as object)).toEqual(["acc-a", "acc-b", "acc-c"]);
    expect(() => mergeStackFile("config: [", {})).toThrow("the stack file is not valid YAML");
  });
});

describe("targets from the plan JSON", () => {
  const compiled = compileStack(acceptanceConfig(inputsFromEnv(ENV), false), "acc");
  const targets = targetsFromPlan(JSON.parse(planJson(compiled)));

  it("gives the shell one line per server, instance (UDP first) and tenant", () => {
    expect(targetLines(targets)).toEqual([
      "server vpn1 192.168.100.11",
      "server vpn2 192.168.100.12",
      "instance vpn1-udp vpn1 udp 1194 10.255.0.1",
      "instance vpn2-udp vpn2 udp 1194 10.255.128.1",
      "instance vpn1-tcp vpn1 tcp 443 10.255.64.1",
      "instance vpn2-tcp vpn2 tcp 443 10.255.192.1",
      "tenant acc-a 7001 10.0.1.1",
      "tenant acc-b 7002 10.0.2.1",
    ]);
  });

  it("refuses JSON that is not the plan, naming the field", () => {
    expect(() => targetsFromPlan({ servers: [] })).toThrow('plan JSON: "instances" must be an array of objects');
    const bad = JSON.parse(planJson(compiled)) as { tenants: { routerIp: string }[] };
    bad.tenants[1].routerIp = "10.0.2.1; rm -rf /";
    expect(() => targetsFromPlan(bad)).toThrow('plan JSON: tenants[1].routerIp must be an IPv4 address, got "10.0.2.1; rm -rf /"');
  });

  it("narrows the golden bundle to exactly one instance's <connection>", () => {
    const bundle = readFileSync(join(ROOT, "test/render/openvpn/golden/acme.ovpn"), "utf8");
    const tcp2 = selectConnection(bundle, "vpn2.example.net", 443, "tcp");
    expect([...tcp2.matchAll(/^remote .*$/gm)].map((m) => m[0])).toEqual(["remote vpn2.example.net 443 tcp4-client"]);
    // Everything outside the <connection> blocks is kept as it was.
    expect(tcp2.split("<connection>")[0]).toBe(bundle.split("<connection>")[0]);
    expect(() => selectConnection(bundle, "vpn3.example.net", 1194, "udp")).toThrow(
      "client bundle: 0 <connection> blocks dial vpn3.example.net 1194 udp (want exactly 1); it has: remote vpn1.example.net 1194 udp4; remote vpn2.example.net 1194 udp4; remote vpn1.example.net 443 tcp4-client; remote vpn2.example.net 443 tcp4-client",
    );
  });

  it("reads a tenant's secrets, and says --show-secrets when they are masked", () => {
    const entry = { vncPassword: "Ab1-Cd2_", clientBundle: "client\n", launcher: "#!/bin/sh\n" };
    expect(tenantSecret({ "acc-a": entry }, "acc-a")).toEqual(entry);
    expect(() => tenantSecret({ "acc-a": entry }, "acc-b")).toThrow("tenantSecrets has no entry for tenant acc-b (it has acc-a)");
    expect(() => tenantSecret({ "acc-a": { ...entry, vncPassword: "[secret]" } }, "acc-a")).toThrow("run pulumi stack output with --show-secrets");
  });
});

describe("the console verdict", () => {
  const ok = { version: "RFB 003.008", securityTypes: [2], result: "OK" as const };
  const refused = { version: "RFB 003.008", securityTypes: [2], result: "FAILED" as const, reason: "Authentication failed" };
  it("passes: RFB banner, VNC auth only, own password OK, wrong password FAILED", () => {
    expect(judgeConsole(ok, refused)).toEqual([]);
  });
  it("fails an open console and a password that does not work", () => {
    expect(judgeConsole({ ...ok, securityTypes: [1, 2] }, { ...ok, securityTypes: [1, 2] })).toEqual([
      "offers security type None ([1,2]): the console is open without a password",
      "a wrong password is OK, want FAILED",
    ]);
    expect(judgeConsole(refused, refused)).toEqual(["the tenant's password is FAILED (Authentication failed), want OK"]);
  });
  it("the wrong password differs in each of the 8 characters VNC reads", () => {
    for (const p of ["Ab1-Cd2_", "ZZZZZZZZ", "short"]) {
      const w = wrongPassword(p);
      expect(w).toHaveLength(8);
      expect([...w].every((c, i) => c !== p.padEnd(8, "x")[i])).toBe(true);
    }
  });
});
