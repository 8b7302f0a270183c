/**
 * Change safety: what `pulumi up` does for each routine change, on the minimal stack (50 tenants), in its own
 * distinct tenant-network mode and switched to fixed mode (the LibreRouter image as shipped), and switching it
 * between the two. Each
 * scenario runs the program twice under mocks, records every registration with its options (harness.ts), and
 * classifies each resource the way the engine would (engine/classify.ts, engine/provider-rules.ts). The plan is
 * printed like `pulumi preview` prints it.
 *
 * Invariants in every scenario: nothing outside the scenario's tenant changes unless the test names it and says
 * why; no tenant VM is ever replaced; no delete script runs except the removed tenant's.
 *
 * What this cannot prove: the engine and providers are modelled, not run (a real `pulumi preview` against a PVE test
 * host is the acceptance check); provider-computed defaults and refresh are not modelled.
 */
import { FAKE_PVE, fakeMac } from "../../bench/fakes";
import { type Recorded, byName, runProgram } from "./harness";
import { certRows, rowsMissingFrom, stdinWithoutCerts, tenantCertRow } from "./engine/cert-figures";
import { type EnginePlan, classify } from "./engine/classify";
import { type Scenario, invariantViolations, scenario, stackConfig } from "./engine/scenario";

const TIMEOUT = 300_000;
/** Custom resources of one tenant (components/tenant.ts, components/tenant-firewall.ts). */
const TENANT_PARTS = ["cert", "console-pw", "csr", "firewall", "ipfilter", "key", "tls-crypt-v2", "vm", "vnc-password", "vnc-pw", "vpn1", "vpn2"];
const tenantOf = (key: string) => (name: string) => name === `tenant-${key}` || name.startsWith(`tenant-${key}-`);

/**
 * monitoring-services (components/monitoring.ts) carries every tenant's certificate end: which rows of its
 * lr-certs.prom a scenario adds and drops, and whether anything else of the command changes.
 */
function certFigureChange(s: Scenario) {
  const [b, a] = [certRows(s.before.resources), certRows(s.after.resources)];
  const rest = (rs: readonly Recorded[]) => stdinWithoutCerts(byName(rs, "monitoring-services"));
  return { gained: rowsMissingFrom(a, b), lost: rowsMissingFrom(b, a), restUnchanged: rest(s.after.resources) === rest(s.before.resources) };
}

/**
 * A rebuilt VM's command: its stdin starts with the VM's MAC (`# target:`) and waits on the VM, so the replaced VM's
 * new MAC (unknown at preview) runs its whole apply again. The mocks draw the same MAC again: the text is equal.
 */
function reappliedOnRebuild(s: Scenario, name: string, vm: string) {
  const [b, a] = [s.before, s.after].map((run) => byName(run.resources, name));
  return {
    target: String(a.inputs.stdin).split("\n")[0],
    waitsOnVm: a.options.propertyDependencies.stdin.includes(byName(s.after.resources, vm).urn),
    textUnchanged: a.inputs.stdin === b.inputs.stdin,
  };
}

/** Minimal with slot 50 unsold (49 tenants): the base for adding a tenant into slot 50. */
function minimalWithout50() {
  const raw = stackConfig("minimal");
  (raw["numberedTenants"] as { exclude: number[] }).exclude.push(50);
  return raw;
}

describe("first pulumi up (empty state)", () => {
  let plan: EnginePlan;
  beforeAll(async () => {
    plan = classify([], (await runProgram("minimal", stackConfig("minimal"))).resources);
  }, TIMEOUT);

  test("creates everything, and every input passes the providers' create-time checks (e.g. bpg's trunks parser)", () => {
    expect(new Set(plan.steps.map((st) => st.op))).toEqual(new Set(["create"]));
    expect(plan.steps.flatMap((st) => st.invalid.map((m) => `${st.name}: ${m}`))).toEqual([]);
    expect(plan.deleteScripts).toEqual([]);
  });
});

describe("add a tenant (newco in free slot 50)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const before = minimalWithout50();
    const after = minimalWithout50();
    after.tenants["newco"] = { slot: 50 };
    s = await scenario("add tenant newco", "minimal", before, after);
  }, TIMEOUT);

  test("creates newco's component and its 11 resources; only the reverse zone and the certificate figures on the services VM are updated in place", () => {
    expect(s.changes).toEqual([
      // newco's certificate end joins the monitoring's figures (its certificate is new: unknown at preview), in place.
      ["update", "monitoring-services", ["stdin"]],
      // The PTR zone lists every tenant (render/reverse-dns.ts): named, in place, no delete script.
      ["update", "services-setup", ["stdin"]],
      ["create", "tenant-newco", []],
      ...TENANT_PARTS.map((x): [string, string, string[]] => ["create", `tenant-newco-${x}`, []]),
    ]);
    expect(certFigureChange(s)).toEqual({ gained: [tenantCertRow(s.after.resources, "newco")], lost: [], restUnchanged: true });
  });

  test("invariants", () => {
    expect(invariantViolations(s, (n) => tenantOf("newco")(n) || n === "services-setup" || n === "monitoring-services")).toEqual([]);
  });
});

describe("remove a tenant (coop-sur)", () => {
  let s: Scenario;
  let unprotected: Scenario;
  beforeAll(async () => {
    const before = stackConfig("minimal");
    const after = stackConfig("minimal");
    delete after.tenants["coop-sur"];
    s = await scenario("remove tenant coop-sur", "minimal", before, after);
    unprotected = await scenario("remove tenant coop-sur after `pulumi state unprotect` of its VM and filters", "minimal", before, after, {
      unprotected: ["tenant-coop-sur-vm", "tenant-coop-sur-ipfilter", "tenant-coop-sur-firewall"],
    });
  }, TIMEOUT);

  // Protected: the VM and its anti-spoofing filters (they must outlive every other part while the router runs).
  const held = ["vm", "ipfilter", "firewall"];
  const deletes = ["tenant-coop-sur", ...TENANT_PARTS.filter((x) => !held.includes(x)).map((x) => `tenant-coop-sur-${x}`)];

  test("deletes coop-sur's resources; the engine refuses to delete its protected VM and filters; the reverse zone loses its PTR and the certificate figures its row, in place", () => {
    expect(certFigureChange(s)).toEqual({ gained: [], lost: [tenantCertRow(s.before.resources, "coop-sur")], restUnchanged: true });
    expect(s.changes).toEqual(
      [
        ["update", "monitoring-services", ["stdin"]] as [string, string, string[]],
        ["update", "services-setup", ["stdin"]] as [string, string, string[]],
        ...deletes.map((n): [string, string, string[]] => ["delete", n, []]),
        ...held.map((x): [string, string, string[]] => ["delete refused:protected", `tenant-coop-sur-${x}`, []]),
      ].sort(
        (a, b) => a[1].localeCompare(b[1]),
      ),
    );
  });

  test("exactly coop-sur's two VPN delete scripts run, each with the stdin it was applied with, and its console-pw's, which only says there is nothing to undo", () => {
    expect(s.plan.deleteScripts.map((d) => [d.name, d.command, d.when])).toEqual([
      ["tenant-coop-sur-console-pw", "bash -s delete", "delete"],
      ["tenant-coop-sur-vpn1", "bash -s delete", "delete"],
      ["tenant-coop-sur-vpn2", "bash -s delete", "delete"],
    ]);
    const old = s.before.resources.find((r) => r.name === "tenant-coop-sur-vpn1");
    expect(s.plan.deleteScripts[1].stdin).toBe(old?.inputs.stdin);
    // The host-side delete touches nothing: the password lives in the snippet file and in QEMU, which go with the VM.
    expect(String(s.plan.deleteScripts[0].stdin)).toMatch(/nothing to undo/);
  });

  test("after `pulumi state unprotect` the VM and its filters are deleted too", () => {
    for (const x of ["vm", "ipfilter", "firewall"]) expect(unprotected.changes.find((c) => c[1] === `tenant-coop-sur-${x}`)).toEqual(["delete", `tenant-coop-sur-${x}`, []]);
    expect(unprotected.changes.filter((c) => c[0].includes("refused"))).toEqual([]);
  });

  test("invariants", () => {
    const removed = ["tenant-coop-sur-console-pw", "tenant-coop-sur-vpn1", "tenant-coop-sur-vpn2"];
    expect(invariantViolations(s, (n) => tenantOf("coop-sur")(n) || n === "services-setup" || n === "monitoring-services", removed, ["tenant-coop-sur-vm", "tenant-coop-sur-ipfilter", "tenant-coop-sur-firewall"])).toEqual([]);
  });
});

describe("pin a hardware ID (coop-sur)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = stackConfig("minimal");
    after.tenants["coop-sur"].hardwareId = "9e7f2a4d8c1b5e9f3a7d0c6b2e8f4a1d5c9b3f0c6b1e9a7d4c2b8e5f1a0d6c3b";
    s = await scenario("pin coop-sur's hardware ID", "minimal", stackConfig("minimal"), after);
  }, TIMEOUT);

  test("updates coop-sur's command on each VPN server in place (the pin is in its stdin)", () => {
    expect(s.changes).toEqual([
      ["update", "tenant-coop-sur-vpn1", ["stdin"]],
      ["update", "tenant-coop-sur-vpn2", ["stdin"]],
    ]);
  });

  test("invariants (no delete script: the tenant stays enrolled and connected)", () => {
    expect(invariantViolations(s, tenantOf("coop-sur"))).toEqual([]);
  });
});

describe("change one tenant's memory (acme)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = stackConfig("minimal");
    after.tenants["acme"].memory = { minMb: 1024, maxMb: 3072 };
    s = await scenario("acme memory 512-2048 -> 1024-3072", "minimal", stackConfig("minimal"), after);
  }, TIMEOUT);

  test("updates acme's VM in place (memory is not ForceNew in bpg) and restarts it (no memory hotplug: PVE's default hotplug is network,disk,usb)", () => {
    expect(s.changes).toEqual([["update reboot", "tenant-acme-vm", ["memory.dedicated", "memory.floating"]]]);
  });

  test("invariants", () => {
    expect(invariantViolations(s, tenantOf("acme"))).toEqual([]);
  });
});

describe("rotate one tenant's VNC password (pulumi up --replace the RandomPassword)", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("--replace tenant-acme-vnc-password", "minimal", stackConfig("minimal"), stackConfig("minimal"), { replace: ["tenant-acme-vnc-password"] });
  }, TIMEOUT);

  test("replaces the password, then the snippet file delete-before-replace (same path: the new file must survive), then hands it to the running VM (no reboot)", () => {
    expect(s.changes).toEqual([
      // stdin carries the new password's revision: QMP set_password on the tenant display, after the file (dependsOn).
      ["update", "tenant-acme-console-pw", ["stdin"]],
      ["replace", "tenant-acme-vnc-password", ["id"]],
      // The file's data is the new password, unknown at preview; sourceRaw is ForceNew (bpg file.go).
      ["replace-dbr", "tenant-acme-vnc-pw", ["sourceRaw"]],
    ]);
    const pw = s.after.resources.find((r) => r.name === "tenant-acme-console-pw");
    expect(pw?.options.dependencies).toEqual(expect.arrayContaining([expect.stringContaining("tenant-acme-vnc-pw"), expect.stringContaining("tenant-acme-vm")]));
  });

  test("invariants", () => {
    expect(invariantViolations(s, tenantOf("acme"))).toEqual([]);
  });
});

describe("re-issue one tenant's certificate (pulumi up --replace its private key)", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("--replace tenant-acme-key", "minimal", stackConfig("minimal"), stackConfig("minimal"), { replace: ["tenant-acme-key"] });
  }, TIMEOUT);

  test("new key, request, certificate and tls-crypt-v2 key; both pins on both servers and the certificate figures are updated in place (the old ones are refused at once)", () => {
    expect(s.changes).toEqual([
      // The new certificate's end (unknown at preview) goes to the monitoring's figures, in place, never the old delete.
      ["update", "monitoring-services", ["stdin"]],
      ["replace", "tenant-acme-cert", ["certRequestPem"]],
      ["replace", "tenant-acme-csr", ["privateKeyPem"]],
      ["replace", "tenant-acme-key", ["id"]],
      // Kc's keepers hold the private key's id: one `--replace` re-issues the whole bundle.
      ["replace", "tenant-acme-tls-crypt-v2", ["keepers"]],
      // The pin is the new certificate's fingerprint, in the command's stdin: an update, never the old delete.
      ["update", "tenant-acme-vpn1", ["stdin"]],
      ["update", "tenant-acme-vpn2", ["stdin"]],
    ]);
  });

  test("invariants (no delete script: the tenant keeps its ccd, pins and routes)", () => {
    expect(invariantViolations(s, (n) => tenantOf("acme")(n) || n === "monitoring-services")).toEqual([]);
    // The mocks issue every certificate at the same instant, so the recorded rows are equal: only acme's row is fed by the replaced certificate.
    expect(certFigureChange(s)).toEqual({ gained: [], lost: [], restUnchanged: true });
    const deps = byName(s.after.resources, "monitoring-services").options.propertyDependencies.stdin;
    expect(deps.filter((u) => u.endsWith("::tenant-acme-cert"))).toHaveLength(1);
  });
});

describe("re-issue one tenant's tls-crypt-v2 key alone (pulumi up --replace its RandomBytes)", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("--replace tenant-acme-tls-crypt-v2", "minimal", stackConfig("minimal"), stackConfig("minimal"), { replace: ["tenant-acme-tls-crypt-v2"] });
  }, TIMEOUT);

  test("a new Kc; the key id pinned on both servers is updated in place (the old key is refused before TLS); the certificate stays", () => {
    expect(s.changes).toEqual([
      ["replace", "tenant-acme-tls-crypt-v2", ["id"]],
      ["update", "tenant-acme-vpn1", ["stdin"]],
      ["update", "tenant-acme-vpn2", ["stdin"]],
    ]);
  });

  test("invariants (no delete script: the tenant keeps its ccd, pins and routes)", () => {
    expect(invariantViolations(s, tenantOf("acme"))).toEqual([]);
  });
});

describe.each([
  {
    what: "rotate vpn1's credential on the ban grid",
    replace: "bans-machine-vpn1",
    // The LAPI resets the machine's password (enrolment), then vpn1 gets it: in order, both in place.
    changes: [["replace", "bans-machine-vpn1", ["id"]], ["update", "bans-services-enrol", ["stdin"]], ["update", "bans-vpn1", ["stdin"]]],
  },
  {
    what: "rotate the host bouncer's API key",
    replace: "bans-bouncer-fw-host",
    changes: [["replace", "bans-bouncer-fw-host", ["id"]], ["update", "bans-host", ["stdin"]], ["update", "bans-services-enrol", ["stdin"]]],
  },
  {
    what: "re-issue the LAPI's certificate",
    replace: "bans-lapi-key",
    changes: [["replace", "bans-lapi-cert", ["certRequestPem"]], ["replace", "bans-lapi-csr", ["privateKeyPem"]], ["replace", "bans-lapi-key", ["id"]], ["update", "bans-services", ["stdin"]]],
  },
  {
    // Every tenant's token changes with it (outputs only: each tenant installs his new tenantSecrets config).
    what: "rotate the key tenants' report tokens are signed with",
    replace: "bans-report-token-key",
    changes: [["replace", "bans-report-token-key", ["id"]], ["update", "bans-services", ["stdin"]]],
  },
])("ban grid: $what (pulumi up --replace $replace)", ({ replace, changes }) => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario(`--replace ${replace}`, "minimal", stackConfig("minimal"), stackConfig("minimal"), { replace: [replace] });
  }, TIMEOUT);

  test("replaced where the secret lives, every command that carries it updated in place (never its delete)", () => {
    expect(s.changes).toEqual(changes);
  });

  test("invariants: nothing outside the grid changes, no delete script runs", () => {
    expect(invariantViolations(s, (n) => n.startsWith("bans-"))).toEqual([]);
  });
});

describe("rebuild VPN server vpn1 (pulumi up --replace its VM)", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("--replace vpn1-vm", "minimal", stackConfig("minimal"), stackConfig("minimal"), { replace: ["vpn1-vm"] });
  }, TIMEOUT);

  test("the VM is deleted before it is re-created (fixed VMID); its host key, setup and every tenant's state on it are applied again in place", () => {
    const onVpn1 = s.after.resources.filter((r) => r.type === "command:remote:Command" && /^tenant-.*-vpn1$/.test(r.name)).map((r) => r.name);
    expect(onVpn1).toHaveLength(50);
    expect(s.changes).toEqual(
      [
        ["replace-dbr", "vpn1-vm", ["id"]] as [string, string, string[]],
        ["update", "vpn1-hostkey", ["stdin"]] as [string, string, string[]],
        // stdin carries the new VM's MAC. (On a real engine the connection's host key, the output of the updated
        // keyscan, is unknown at preview too: also an update. The model marks only created/replaced outputs unknown.)
        ["update", "vpn1-setup", ["stdin"]] as [string, string, string[]],
        // The ban grid's agent and bouncer on it, and the console gateway, set up again (the VM's MAC is in their stdin too).
        ["update", "bans-vpn1", ["stdin"]] as [string, string, string[]],
        ["update", "consoles-vpn1", ["stdin"]] as [string, string, string[]],
        // Its exporter and lr-metrics set up again: the new VM's MAC is in that command's stdin.
        ["update", "monitoring-vpn1", ["stdin"]] as [string, string, string[]],
        ...onVpn1.map((n): [string, string, string[]] => ["update", n, ["stdin"]]),
      ].sort((a, b) => a[1].localeCompare(b[1])),
    );
  });

  test("invariants (no delete script runs: the old VM goes with its state)", () => {
    expect(reappliedOnRebuild(s, "monitoring-vpn1", "vpn1-vm")).toEqual({ target: `# target: ${fakeMac("vpn1-vm#0")}`, waitsOnVm: true, textUnchanged: true });
    expect(invariantViolations(s, (n) => n.startsWith("vpn1-") || ["bans-vpn1", "consoles-vpn1", "monitoring-vpn1"].includes(n) || /^tenant-.*-vpn1$/.test(n))).toEqual([]);
  });
});

const MARK = "# librerouter-hosting upgrade marker\n";
/** The program for `raw` with MARK appended to the text of every script the render modules produce. */
async function upgraded(raw: ReturnType<typeof stackConfig>) {
  const wrap = (path: string, fns: string[]) =>
    jest.doMock(path, () => {
      const real = jest.requireActual(path);
      const out: Record<string, unknown> = { ...real };
      for (const f of fns) {
        // A renamed render function must fail here, not silently stop being upgraded.
        if (typeof real[f] !== "function") throw new Error(`${path} no longer exports ${f}`);
        out[f] = (...args: unknown[]) => {
          const r = real[f](...args);
          return typeof r === "string" ? r + MARK : { ...r, apply: r.apply + MARK, delete: r.delete + MARK };
        };
      }
      return out;
    });
  const mods: [string, string[]][] = [
    ["../../render/tenant-scripts", ["tenantServerScripts"]],
    ["../../render/server-setup", ["renderServerSetupScript"]],
    ["../../render/services", ["servicesScripts"]],
    ["../../render/host-console", ["hostConsoleFirewallScripts"]],
    ["../../render/dhcp", ["dhcpSetupScripts", "dhcpReservationScripts"]],
    ["../../render/bans/setup", ["setupScript", "teardownScript", "enrolScript"]],
    ["../../render/host-serial", ["serialBridgeScripts", "vncRotateScripts"]],
    ["../../render/console-gateway", ["consoleGatewayScripts"]],
    ["../../render/monitoring/setup", ["monitoringSetupScript", "monitoringTeardownScript"]],
  ];
  for (const [p, f] of mods) wrap(p, f);
  try {
    return await runProgram("minimal", raw);
  } finally {
    for (const [p] of mods) jest.dontMock(p);
  }
}

describe.each([
  // shared: host firewall, services setup, 2 server setups, and the ban grid's 5 (services, enrolment, vpn1, vpn2, host)
  // + the host's serial bridge and the 2 console gateways + the monitoring's 4 (vpn1, vpn2, services, the node);
  // per tenant: vpn1, vpn2 and the console password command
  { mode: "distinct", raw: () => stackConfig("minimal"), perTenant: 3, shared: 16 },
  // + each tenant's DHCP reservation and the services VM's DHCP server
  { mode: "fixed", raw: minimalFixed, perTenant: 4, shared: 17 },
])("change the text of every rendered script (a program upgrade), $mode mode", ({ mode, raw, perTenant, shared }) => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario(`program upgrade (${mode} mode): every rendered script changes`, "minimal", raw(), () => upgraded(raw()));
  }, TIMEOUT);

  test("every remote command is updated in place, nothing else changes", () => {
    // The host-key scans (components/connections.ts) are not rendered by render/: they stay the same.
    const commands = s.after.resources.filter((r) => r.type === "command:remote:Command" && !r.name.endsWith("-hostkey")).map((r) => r.name);
    expect(commands).toHaveLength(perTenant * 50 + shared);
    expect(s.changes).toEqual(commands.map((n): [string, string, string[]] => ["update", n, ["stdin"]]).sort((a, b) => a[1].localeCompare(b[1])));
  });

  test("invariants: no delete script runs (no tenant is locked out, no zone, firewall or reservation is dropped)", () => {
    expect(invariantViolations(s, () => true)).toEqual([]);
  });
});

/**
 * The release that brought the text console: each tenant VM of an older state has no serial0. bpg's vmUpdate sets
 * rebootRequired for serial_device (PVE cannot hot-add a serial port), so each router restarts once; nothing else
 * of a tenant changes shape. (The state of that release is the current one with the serial devices taken out.)
 */
describe("upgrade from a release without text consoles (tenant VMs without serial0)", () => {
  let plan: EnginePlan;
  beforeAll(async () => {
    const now = (await runProgram("minimal", stackConfig("minimal"))).resources;
    const old = now.map((r) => (r.type === "proxmoxve:index/vmLegacy:VmLegacy" && r.name.startsWith("tenant-") ? { ...r, inputs: Object.fromEntries(Object.entries(r.inputs).filter(([k]) => k !== "serialDevices")) } : r));
    plan = classify(old, now);
  }, TIMEOUT);

  test("every tenant VM is updated in place and restarted once for its serial port; the VPN servers and services VM are untouched", () => {
    const changed = plan.steps.filter((st) => st.op !== "same");
    expect(changed.length).toBe(50);
    for (const st of changed) expect([st.op, st.type, st.paths, /^tenant-.*-vm$/.test(st.name)]).toEqual(["update", "proxmoxve:index/vmLegacy:VmLegacy", ["serialDevices"], true]);
    for (const st of changed) expect(st.effects).toEqual(["reboot"]);
    expect(plan.deleteScripts).toEqual([]);
  });
});

describe("change template.vmid (a new LibreRouter template)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = stackConfig("minimal");
    after["template"] = { vmid: 9100 };
    // The new template exists on the node (the preflight checks it), next to the old one.
    const pve = { ...FAKE_PVE, vms: [...FAKE_PVE.vms, { ...FAKE_PVE.vms[0], vmId: 9100, volumes: ["local-lvm:base-9100-disk-0", "local-lvm:vm-9100-cloudinit"], cdrom: { ide2: "local-lvm:vm-9100-cloudinit" } }] };
    s = await scenario("template.vmid 9000 -> 9100", "minimal", stackConfig("minimal"), () => runProgram("minimal", after, pve));
  }, TIMEOUT);

  test("changes nothing: clone.* is ForceNew in bpg, and every VM ignores changes to clone", () => {
    expect(s.changes).toEqual([]);
  });

  test("invariants", () => {
    expect(invariantViolations(s, () => false)).toEqual([]);
  });
});

describe("change vpn.keepalive", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = stackConfig("minimal");
    (after["vpn"] as Record<string, unknown>).keepalive = [10, 60];
    s = await scenario("vpn.keepalive [5, 15] -> [10, 60]", "minimal", stackConfig("minimal"), after);
  }, TIMEOUT);

  test("updates both VPN servers' setup in place (server.conf carries keepalive); no tenant resource changes", () => {
    expect(s.changes).toEqual([
      ["update", "vpn1-setup", ["stdin"]],
      ["update", "vpn2-setup", ["stdin"]],
    ]);
  });

  test("invariants", () => {
    expect(invariantViolations(s, (n) => n === "vpn1-setup" || n === "vpn2-setup")).toEqual([]);
  });
});

describe("network.opsNetworks: set, changed, emptied", () => {
  const withOps = (ops: string[]) => {
    const raw = stackConfig("minimal");
    raw["network"] = { ...(raw["network"] as Record<string, unknown>), opsNetworks: ops };
    return raw;
  };
  let set: Scenario;
  let changed: Scenario;
  let emptied: Scenario;
  beforeAll(async () => {
    set = await scenario("opsNetworks [] -> [203.0.113.0/24]", "minimal", stackConfig("minimal"), withOps(["203.0.113.0/24"]));
    changed = await scenario("opsNetworks -> [198.18.0.0/15]", "minimal", withOps(["203.0.113.0/24"]), withOps(["198.18.0.0/15"]));
    emptied = await scenario("opsNetworks -> []", "minimal", withOps(["198.18.0.0/15"]), stackConfig("minimal"));
  }, TIMEOUT);

  test("setting it creates the one node rule set, and nothing else changes (the VMs' new dependency is no diff)", () => {
    expect(set.changes).toEqual([["create", "host-host-access", []]]);
    expect(invariantViolations(set, (n) => n === "host-host-access")).toEqual([]);
  });

  test("changing it updates the rule set in place (bpg: no ForceNew on rules), no window without rules", () => {
    expect(changed.changes).toEqual([["update", "host-host-access", ["rules[0].source"]]]);
    expect(invariantViolations(changed, (n) => n === "host-host-access")).toEqual([]);
  });

  test("emptying it deletes the rule set: the API and SSH are open again on the public IP", () => {
    expect(emptied.changes).toEqual([["delete", "host-host-access", []]]);
    expect(invariantViolations(emptied, (n) => n === "host-host-access", ["host-host-access"])).toEqual([]);
  });
});

// ---- fixed tenant-network mode (the LibreRouter image as shipped) ----

/** The minimal stack in fixed tenant-network mode. */
function minimalFixed() {
  const raw = stackConfig("minimal");
  raw["tenantNetwork"] = { mode: "fixed" };
  return raw;
}

/** Minimal in fixed mode with slot 50 unsold (49 tenants): the base for adding a tenant into slot 50. */
function minimalFixedWithout50() {
  const raw = minimalFixed();
  (raw["numberedTenants"] as { exclude: number[] }).exclude.push(50);
  return raw;
}
/** Custom resources of one tenant in fixed mode: the 11, its net0 rule set (the no-DHCP-server group), its DHCP reservation. */
const FIXED_TENANT_PARTS = [...TENANT_PARTS, "dhcp", "firewall-rules"].sort();
const row = (op: string, name: string, paths: string[] = []): [string, string, string[]] => [op, name, paths];
const byNameOrder = (a: [string, string, string[]], b: [string, string, string[]]) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]);

describe("fixed mode: add a tenant (newco in free slot 50)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = minimalFixedWithout50();
    after.tenants["newco"] = { slot: 50 };
    s = await scenario("fixed mode: add tenant newco", "minimal", minimalFixedWithout50(), after);
  }, TIMEOUT);

  test("creates newco's component and its 13 resources (its DHCP reservation is its own command); the DHCP server and the group are untouched", () => {
    expect(s.changes).toEqual([
      // newco's certificate end joins the monitoring's figures, as in distinct mode.
      row("update", "monitoring-services", ["stdin"]),
      // The PTR zone lists every tenant (render/reverse-dns.ts), as in distinct mode.
      row("update", "services-setup", ["stdin"]),
      row("create", "tenant-newco"),
      ...FIXED_TENANT_PARTS.map((x) => row("create", `tenant-newco-${x}`)),
    ]);
    expect(certFigureChange(s)).toEqual({ gained: [tenantCertRow(s.after.resources, "newco")], lost: [], restUnchanged: true });
  });

  test("invariants", () => {
    expect(invariantViolations(s, (n) => tenantOf("newco")(n) || n === "services-setup" || n === "monitoring-services")).toEqual([]);
  });
});

describe("fixed mode: remove a tenant (coop-sur)", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = minimalFixed();
    delete after.tenants["coop-sur"];
    s = await scenario("fixed mode: remove tenant coop-sur", "minimal", minimalFixed(), after);
  }, TIMEOUT);

  test("deletes coop-sur's resources, its reservation among them; its protected VM and filters (the rogue-DHCP block too) are refused; the reverse zone loses its PTR in place", () => {
    const held = ["vm", "ipfilter", "firewall", "firewall-rules"];
    const deletes = ["tenant-coop-sur", ...FIXED_TENANT_PARTS.filter((x) => !held.includes(x)).map((x) => `tenant-coop-sur-${x}`)];
    // coop-sur's certificate end leaves the monitoring's figures, as in distinct mode.
    expect(certFigureChange(s)).toEqual({ gained: [], lost: [tenantCertRow(s.before.resources, "coop-sur")], restUnchanged: true });
    expect(s.changes).toEqual([row("update", "monitoring-services", ["stdin"]), row("update", "services-setup", ["stdin"]), ...deletes.map((n) => row("delete", n)), ...held.map((x) => row("delete refused:protected", `tenant-coop-sur-${x}`))].sort(byNameOrder));
  });

  test("exactly coop-sur's delete scripts run: its reservation (file removed, dnsmasq reloaded), its state on both VPN servers, its console-pw's (nothing to undo)", () => {
    expect(s.plan.deleteScripts.map((d) => [d.name, d.command, d.when]).sort()).toEqual([
      ["tenant-coop-sur-console-pw", "bash -s delete", "delete"],
      ["tenant-coop-sur-dhcp", "bash -s delete", "delete"],
      ["tenant-coop-sur-vpn1", "bash -s delete", "delete"],
      ["tenant-coop-sur-vpn2", "bash -s delete", "delete"],
    ]);
  });

  test("invariants", () => {
    const removed = ["tenant-coop-sur-console-pw", "tenant-coop-sur-dhcp", "tenant-coop-sur-vpn1", "tenant-coop-sur-vpn2"];
    expect(invariantViolations(s, (n) => tenantOf("coop-sur")(n) || n === "services-setup" || n === "monitoring-services", removed, ["tenant-coop-sur-vm", "tenant-coop-sur-ipfilter", "tenant-coop-sur-firewall", "tenant-coop-sur-firewall-rules"])).toEqual([]);
  });
});

describe("fixed mode: rebuild the services VM (pulumi up --replace its VM)", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("fixed mode: --replace services-vm", "minimal", minimalFixed(), minimalFixed(), { replace: ["services-vm"] });
  }, TIMEOUT);

  test("the VM is deleted before it is re-created; its setup, its DHCP server and every tenant's reservation are applied again in place (the VM's MAC is in their stdin)", () => {
    const reservations = s.after.resources.filter((r) => /^tenant-.*-dhcp$/.test(r.name)).map((r) => r.name);
    expect(reservations).toHaveLength(50);
    expect(s.changes).toEqual(
      [
        row("replace-dbr", "services-vm", ["id"]),
        row("update", "services-hostkey", ["stdin"]),
        row("update", "services-setup", ["stdin"]),
        row("update", "services-dhcp", ["stdin"]),
        // The ban grid's decision store and its enrolment on the new VM (the members keep their credentials; the
        // bans in force stay in their sets until they expire, the new store starts empty).
        row("update", "bans-services", ["stdin"]),
        row("update", "bans-services-enrol", ["stdin"]),
        // Prometheus, Alertmanager, the exporter and the certificate figures set up again on the new VM (its MAC is in the stdin).
        row("update", "monitoring-services", ["stdin"]),
        ...reservations.map((n) => row("update", n, ["stdin"])),
      ].sort(byNameOrder),
    );
  });

  test("invariants (no delete script runs: the old VM goes with its state)", () => {
    expect(reappliedOnRebuild(s, "monitoring-services", "services-vm")).toEqual({ target: `# target: ${fakeMac("services-vm#0")}`, waitsOnVm: true, textUnchanged: true });
    expect(invariantViolations(s, (n) => n.startsWith("services-") || n.startsWith("bans-services") || n === "monitoring-services" || /^tenant-.*-dhcp$/.test(n))).toEqual([]);
  });
});

/**
 * One stack switched between the modes (a template change to the appliance image and back is the operator's own
 * step: clone is ignored, so the running VMs keep their disks). Per tenant, from the providers' own rules:
 * - the VM is UPDATED in place, never replaced: `initialization` has no ForceNew of its own, its ForceNew children
 *   (type, *FileId) are Optional+Computed and a removed block gives them no diff, `networkDevices[*].macAddress` is
 *   not ForceNew, and clone (ForceNew) is ignored. bpg restarts the VM for a cloud-init change (reboot_after_update),
 *   also for a removed block: it then sends no cloud-init field at all, so ipconfig0/1, nameserver and the
 *   cloud-init drive stay in the VM's config (an image without cloud-init never reads them). Proxmox re-plugs net0
 *   for the new MAC (vmconfig_update_net). Back to distinct: the MAC stays (Optional+Computed), cloud-init returns.
 * - its firewall options are updated in place (dhcp), its rule set and reservation created or deleted;
 * - its state on both VPN servers is updated in place (the LAN addresses in its env and ccd files).
 * Shared: the VPN servers' setup (lr-dataplane's LAN mode), the services setup (its firewall's DHCP rule) in place;
 * the DHCP server and the security group created or deleted.
 */
describe("switch one stack: distinct -> fixed", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario("tenantNetwork.mode distinct -> fixed", "minimal", stackConfig("minimal"), minimalFixed());
  }, TIMEOUT);

  test("every tenant VM updated in place (restarted, net0 re-plugged with its planned MAC); firewall dhcp on; rule sets, reservations, the DHCP server and the group created", () => {
    const keys = buildKeys(s);
    expect(s.changes).toEqual(
      [
        // The report gateway's refused scope names the tenants' LAN, which the mode changes.
        row("update", "bans-services", ["stdin"]),
        row("create", "services-dhcp"),
        row("update", "services-setup", ["stdin"]),
        row("create", "tenants-wan-group"),
        row("update", "vpn1-setup", ["stdin"]),
        row("update", "vpn2-setup", ["stdin"]),
        ...keys.flatMap((k) => [
          row("create", `tenant-${k}-dhcp`),
          row("update", `tenant-${k}-firewall`, ["dhcp"]),
          row("create", `tenant-${k}-firewall-rules`),
          row("update nic-replug reboot", `tenant-${k}-vm`, ["initialization", "networkDevices[0].macAddress"]),
          row("update", `tenant-${k}-vpn1`, ["stdin"]),
          row("update", `tenant-${k}-vpn2`, ["stdin"]),
        ]),
      ].sort(byNameOrder),
    );
  });

  test("invariants: no delete script runs, no VM is replaced", () => {
    expect(invariantViolations(s, () => true)).toEqual([]);
  });
});

describe("switch one stack back: fixed -> distinct", () => {
  let s: Scenario;
  let refused: Scenario;
  beforeAll(async () => {
    // The rule sets are protected with the VM (the rogue-DHCP block must not go before the router does): switching
    // back takes a `pulumi state unprotect` of each first (README); without it the engine refuses each delete.
    refused = await scenario("tenantNetwork.mode fixed -> distinct, rule sets still protected", "minimal", minimalFixed(), stackConfig("minimal"));
    const unprotected = buildKeys(refused).map((k) => `tenant-${k}-firewall-rules`);
    s = await scenario("tenantNetwork.mode fixed -> distinct", "minimal", minimalFixed(), stackConfig("minimal"), { unprotected });
  }, TIMEOUT);

  test("without the unprotect, every rule set's delete is refused", () => {
    const keys = buildKeys(refused);
    expect(refused.changes.filter((c) => c[0].includes("refused")).map((c) => c[1]).sort()).toEqual(keys.map((k) => `tenant-${k}-firewall-rules`).sort());
  });

  test("every tenant VM updated in place (cloud-init back: restarted; the MAC stays); firewall dhcp off; rule sets, reservations, the DHCP server and the group deleted", () => {
    const keys = buildKeys(s);
    expect(s.changes).toEqual(
      [
        // The report gateway's refused scope names the tenants' LAN, which the mode changes.
        row("update", "bans-services", ["stdin"]),
        row("delete", "services-dhcp"),
        row("update", "services-setup", ["stdin"]),
        row("delete", "tenants-wan-group"),
        row("update", "vpn1-setup", ["stdin"]),
        row("update", "vpn2-setup", ["stdin"]),
        ...keys.flatMap((k) => [
          row("delete", `tenant-${k}-dhcp`),
          row("update", `tenant-${k}-firewall`, ["dhcp"]),
          row("delete", `tenant-${k}-firewall-rules`),
          row("update reboot", `tenant-${k}-vm`, ["initialization"]),
          row("update", `tenant-${k}-vpn1`, ["stdin"]),
          row("update", `tenant-${k}-vpn2`, ["stdin"]),
        ]),
      ].sort(byNameOrder),
    );
  });

  test("the delete scripts that run are the DHCP server's and every reservation's, nothing else", () => {
    const removed = ["services-dhcp", ...buildKeys(s).map((k) => `tenant-${k}-dhcp`)];
    expect(s.plan.deleteScripts.map((d) => d.name).sort()).toEqual(removed.sort());
    expect(invariantViolations(s, () => true, removed)).toEqual([]);
  });
});

/** The tenant keys of the scenario's stack (from its VMs). */
function buildKeys(s: Scenario): string[] {
  return s.after.resources.filter((r) => r.type === "librerouter:tenant:Tenant").map((r) => r.name.slice("tenant-".length));
}
