/**
 * The program under mocks in fixed tenant-network mode (the LibreRouter image as shipped: no cloud-init, the same
 * LAN in every tenant, the public address by DHCP), on the minimal stack switched to fixed (50 tenants; prod and full,
 * fixed with 500, are counted and named in program.test.ts): what every tenant VM, its firewall and its DHCP
 * reservation register, and what the services VM adds. The same stack in distinct mode, as committed, is the
 * control: none of it there.
 *
 * What mocks cannot prove: that Proxmox and pve-firewall act on these inputs (test/e2e/dhcp.test.ts runs the rendered
 * DHCP for real; the pve-firewall reading is in components/tenant-firewall.ts), nor replace-vs-update (scenarios.test.ts).
 */
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import { fakeMac } from "../../bench/fakes";
import { dhcpReservationScripts, renderReservation } from "../../render/dhcp";
import { SERVICES_FIREWALL } from "../../render/services";
import { TENANT_WAN_GROUP } from "../../components/tenant-firewall";
import { type ProgramRun, type Recorded, byName, plainStrings, reveal, runProgram, writtenFiles } from "./harness";

const ROOT = `${__dirname}/../..`;
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const FIXED = { ...readStackFile(ROOT, "minimal"), tenantNetwork: { mode: "fixed" } };
const plan = buildPlan(FIXED, "minimal");
let fixed: ProgramRun;
let minimal: ProgramRun;

beforeAll(async () => {
  fixed = await runProgram("minimal", FIXED);
  minimal = await runProgram("minimal", readStackFile(ROOT, "minimal"));
  for (const r of [fixed, minimal]) if (r.error) throw r.error;
}, 300_000);

let index: Map<string, Recorded>;
/** By name (names are unique in a run: program.test.ts). */
const get = (name: string): Recorded => {
  index ??= new Map(fixed.resources.map((r) => [r.name, r]));
  const r = index.get(name);
  if (!r) throw new Error(`no resource named ${name}`);
  return r;
};
const deps = (r: Recorded) => r.options.dependencies;

test("the stack is in fixed mode, with the appliance's default LAN", () => {
  expect(plan.tenantNetwork).toEqual({ mode: "fixed", lan: "10.0.0.0/24" });
  expect(plan.tenants).toHaveLength(50);
});

test("no tenant VM registers `initialization` (no ipConfigs, no cloud-init drive); net0 carries the planned MAC, behind the firewall", () => {
  for (const t of plan.tenants) {
    const vm = get(`tenant-${t.key}-vm`).inputs;
    expect(vm.initialization).toBeUndefined();
    expect(vm.networkDevices).toEqual([
      { bridge: "vmbr0", model: "virtio", firewall: true, macAddress: t.publicMac },
      { bridge: "vmbr1", model: "virtio", vlanId: t.vlan },
    ]);
  }
  const tenantVms = fixed.resources.filter((r) => r.type === VM && r.name.startsWith("tenant-"));
  expect(tenantVms).toHaveLength(50);
  expect(tenantVms.filter((r) => JSON.stringify(r.inputs).includes("ipConfigs"))).toEqual([]);
  // Each MAC once: the reservation and the macfilter would otherwise hang on another tenant's NIC.
  expect(new Set(plan.tenants.map((t) => t.publicMac)).size).toBe(50);
});

test("every tenant has its own DHCP reservation command on the services VM: its MAC and IP, after the DHCP server, re-applied on a rebuilt services VM", () => {
  const server = get("services-dhcp");
  const setup = get("services-setup");
  for (const t of plan.tenants) {
    const c = get(`tenant-${t.key}-dhcp`);
    expect(c.type).toBe("command:remote:Command");
    const stdin = String(c.inputs.stdin);
    expect(stdin.split("\n")[0]).toBe(`# target: ${fakeMac("services-vm#0")}`);
    const scripts = dhcpReservationScripts(plan, t);
    expect(stdin).toContain(scripts.apply.trimEnd());
    expect(stdin).toContain(scripts.delete.trimEnd());
    expect(stdin).toContain(`'${renderReservation(t).trimEnd()}'`);
    expect(renderReservation(t)).toBe(`${t.publicMac},${t.publicIp},${t.key},3600\n`);
    expect(reveal(c.inputs.connection)).toEqual(reveal(setup.inputs.connection));
    expect(deps(c)).toContain(server.urn);
  }
});

test("the same MAC and IP feed the filters: the NIC's MAC (macfilter) is the reservation's, the ipfilter-net0 set holds the reserved IP", () => {
  for (const t of plan.tenants) {
    const nic = (get(`tenant-${t.key}-vm`).inputs.networkDevices as { macAddress?: string }[])[0];
    expect(String(get(`tenant-${t.key}-dhcp`).inputs.stdin)).toContain(`'${nic.macAddress},${t.publicIp},`);
    expect(get(`tenant-${t.key}-ipfilter`).inputs.cidrs).toEqual([{ name: t.publicIp }]);
  }
});

test("firewall: dhcp on (a DISCOVER from 0.0.0.0 passes ipfilter), mac/ip filters on; net0 in the group that drops DHCP server traffic, the group before the rule, the rule before dhcp opens", () => {
  const group = get("tenants-wan-group");
  expect(group.type).toBe("proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy");
  expect(group.inputs).toEqual({
    name: TENANT_WAN_GROUP,
    comment: "librerouter-hosting minimal: tenant WAN NICs (rogue DHCP offers)",
    rules: [
      { type: "out", action: "DROP", proto: "udp", sport: "67", comment: "no DHCP server on the public bridge: from the server port" },
      { type: "out", action: "DROP", proto: "udp", dport: "68", comment: "no DHCP server on the public bridge: to a client" },
    ],
  });
  expect(TENANT_WAN_GROUP.length).toBeLessThanOrEqual(18);
  for (const t of plan.tenants) {
    const options = get(`tenant-${t.key}-firewall`);
    const rules = get(`tenant-${t.key}-firewall-rules`);
    expect(options.inputs).toEqual({ nodeName: "pve1", vmId: t.vmid, enabled: true, macfilter: true, ipfilter: true, dhcp: true, ndp: false, radv: false, inputPolicy: "ACCEPT", outputPolicy: "ACCEPT" });
    expect(rules.inputs).toEqual({ nodeName: "pve1", vmId: t.vmid, rules: [{ securityGroup: TENANT_WAN_GROUP, iface: "net0", comment: `tenant ${t.key}: no DHCP server` }] });
    expect(deps(rules)).toEqual(expect.arrayContaining([group.urn, get(`tenant-${t.key}-ipfilter`).urn]));
    expect(deps(options)).toEqual(expect.arrayContaining([rules.urn]));
  }
});

test("the services VM: its DHCP server is one command after the setup with no tenant in it; the setup's public firewall accepts DHCP requests", () => {
  const server = get("services-dhcp");
  const stdin = String(server.inputs.stdin);
  expect(stdin.split("\n")[0]).toBe(`# target: ${fakeMac("services-vm#0")}`);
  expect(deps(server)).toContain(get("services-setup").urn);
  for (const t of plan.tenants) expect(stdin.includes(t.publicMac) || stdin.includes(`/hosts/${t.key}'`)).toBe(false);
  expect([...writtenFiles(stdin).keys()]).toEqual(["/etc/librerouter/dhcp/dnsmasq.conf", "/etc/systemd/system/librerouter-dhcp.service"]);
  const firewall = writtenFiles(String(get("services-setup").inputs.stdin)).get(SERVICES_FIREWALL)?.content ?? "";
  expect(firewall).toContain("\n-A LR-PUB -p udp -m udp --sport 68 --dport 67 -j ACCEPT\n");
  expect(firewall.indexOf("--dport 67 -j ACCEPT")).toBeLessThan(firewall.indexOf("\n-A LR-PUB -j DROP\n"));
});

test("the new commands carry no secret (plain stdin, no key material), and the bundles stay secret", () => {
  const plainText = (name: string) => plainStrings(get(name).inputs).map((s) => s.text).join("\n");
  for (const name of ["services-dhcp", ...plan.tenants.map((t) => `tenant-${t.key}-dhcp`)]) {
    expect(typeof get(name).inputs.stdin).toBe("string");
    expect(plainText(name)).not.toMatch(/PRIVATE KEY|tls-crypt-v2/);
  }
  expect(fixed.outputs.tenantSecrets.secret).toBe(true);
});

test("the tenantNetwork output (the policy pack's anti-spoofing input): the mode and every tenant's planned MAC, plain; distinct: the mode only", () => {
  expect(fixed.outputs.tenantNetwork).toEqual({ value: { mode: "fixed", publicMacs: Object.fromEntries(plan.tenants.map((t) => [t.key, t.publicMac])) }, secret: false });
  expect(minimal.outputs.tenantNetwork).toEqual({ value: { mode: "distinct" }, secret: false });
});

test("control, the same stack in distinct mode: every tenant VM keeps cloud-init and its drawn MAC; no DHCP, no group, no rule set, dhcp off", () => {
  const m = buildPlan(readStackFile(ROOT, "minimal"), "minimal");
  expect(m.tenantNetwork.mode).toBe("distinct");
  for (const t of m.tenants) {
    const vm = byName(minimal.resources, `tenant-${t.key}-vm`).inputs;
    expect(vm.initialization).toMatchObject({ ipConfigs: [{ ipv4: { address: `${t.publicIp}/${t.publicPrefix}` } }, expect.anything()] });
    expect((vm.networkDevices as { macAddress?: string }[]).map((n) => n.macAddress)).toEqual([undefined, undefined]);
    expect(byName(minimal.resources, `tenant-${t.key}-firewall`).inputs.dhcp).toBe(false);
  }
  expect(minimal.resources.filter((r) => /-dhcp$|-firewall-rules$|^tenants-wan-group$/.test(r.name)).map((r) => r.name)).toEqual([]);
});
