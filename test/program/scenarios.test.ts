/**
 * Change safety: what `pulumi up` does for each routine change, on the minimal stack (50 tenants). Each
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
import { FAKE_PVE } from "../../bench/fakes";
import { runProgram } from "./harness";
import { type EnginePlan, classify } from "./engine/classify";
import { type Scenario, invariantViolations, scenario, stackConfig } from "./engine/scenario";

const TIMEOUT = 300_000;
/** Custom resources of one tenant (components/tenant.ts, components/tenant-firewall.ts). */
const TENANT_PARTS = ["cert", "csr", "firewall", "ipfilter", "key", "tls-crypt-v2", "vm", "vnc-password", "vnc-pw", "vpn1", "vpn2"];
const tenantOf = (key: string) => (name: string) => name === `tenant-${key}` || name.startsWith(`tenant-${key}-`);

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

  test("creates newco's component and its 11 resources; only the reverse zone on the services VM is updated in place", () => {
    expect(s.changes).toEqual([
      // The PTR zone lists every tenant (render/reverse-dns.ts): named, in place, no delete script.
      ["update", "services-setup", ["stdin"]],
      ["create", "tenant-newco", []],
      ...TENANT_PARTS.map((x): [string, string, string[]] => ["create", `tenant-newco-${x}`, []]),
    ]);
  });

  test("invariants", () => {
    expect(invariantViolations(s, (n) => tenantOf("newco")(n) || n === "services-setup")).toEqual([]);
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
    unprotected = await scenario("remove tenant coop-sur after `pulumi state unprotect` of its VM", "minimal", before, after, { unprotected: ["tenant-coop-sur-vm"] });
  }, TIMEOUT);

  const deletes = ["tenant-coop-sur", ...TENANT_PARTS.filter((x) => x !== "vm").map((x) => `tenant-coop-sur-${x}`)];

  test("deletes coop-sur's resources; the engine refuses to delete its protected VM; the reverse zone loses its PTR in place", () => {
    expect(s.changes).toEqual(
      [["update", "services-setup", ["stdin"]] as [string, string, string[]], ...deletes.map((n): [string, string, string[]] => ["delete", n, []]), ["delete refused:protected", "tenant-coop-sur-vm", []] as [string, string, string[]]].sort(
        (a, b) => a[1].localeCompare(b[1]),
      ),
    );
  });

  test("exactly coop-sur's two VPN delete scripts run, each with the stdin it was applied with", () => {
    expect(s.plan.deleteScripts.map((d) => [d.name, d.command, d.when])).toEqual([
      ["tenant-coop-sur-vpn1", "bash -s delete", "delete"],
      ["tenant-coop-sur-vpn2", "bash -s delete", "delete"],
    ]);
    const old = s.before.resources.find((r) => r.name === "tenant-coop-sur-vpn1");
    expect(s.plan.deleteScripts[0].stdin).toBe(old?.inputs.stdin);
  });

  test("after `pulumi state unprotect` the VM is deleted too", () => {
    expect(unprotected.changes.find((c) => c[1] === "tenant-coop-sur-vm")).toEqual(["delete", "tenant-coop-sur-vm", []]);
  });

  test("invariants", () => {
    const removed = ["tenant-coop-sur-vpn1", "tenant-coop-sur-vpn2"];
    expect(invariantViolations(s, (n) => tenantOf("coop-sur")(n) || n === "services-setup", removed, ["tenant-coop-sur-vm"])).toEqual([]);
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

  test("updates acme's VM in place (memory is not ForceNew in bpg)", () => {
    expect(s.changes).toEqual([["update", "tenant-acme-vm", ["memory.dedicated", "memory.floating"]]]);
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

  test("replaces the password, then the snippet file delete-before-replace (same path: the new file must survive)", () => {
    expect(s.changes).toEqual([
      ["replace", "tenant-acme-vnc-password", ["id"]],
      // The file's data is the new password, unknown at preview; sourceRaw is ForceNew (bpg file.go).
      ["replace-dbr", "tenant-acme-vnc-pw", ["sourceRaw"]],
    ]);
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

  test("new key, request, certificate and tls-crypt-v2 key; both pins on both servers are updated in place (the old ones are refused at once)", () => {
    expect(s.changes).toEqual([
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
    expect(invariantViolations(s, tenantOf("acme"))).toEqual([]);
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
        ...onVpn1.map((n): [string, string, string[]] => ["update", n, ["stdin"]]),
      ].sort((a, b) => a[1].localeCompare(b[1])),
    );
  });

  test("invariants (no delete script runs: the old VM goes with its state)", () => {
    expect(invariantViolations(s, (n) => n.startsWith("vpn1-") || /^tenant-.*-vpn1$/.test(n))).toEqual([]);
  });
});

describe("change the text of every rendered script (a program upgrade)", () => {
  let s: Scenario;
  const MARK = "# librerouter-hosting upgrade marker\n";
  /** Appends MARK to the text of every script the render modules produce; `run` loads the program with them. */
  async function upgraded() {
    const wrap = (path: string, fns: string[]) =>
      jest.doMock(path, () => {
        const real = jest.requireActual(path);
        const out: Record<string, unknown> = { ...real };
        for (const f of fns) {
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
    ];
    for (const [p, f] of mods) wrap(p, f);
    try {
      return await runProgram("minimal", stackConfig("minimal"));
    } finally {
      for (const [p] of mods) jest.dontMock(p);
    }
  }
  beforeAll(async () => {
    s = await scenario("program upgrade: every rendered script changes", "minimal", stackConfig("minimal"), upgraded);
  }, TIMEOUT);

  test("every remote command is updated in place, nothing else changes", () => {
    // The host-key scans (components/connections.ts) are not rendered by render/: they stay the same.
    const commands = s.after.resources.filter((r) => r.type === "command:remote:Command" && !r.name.endsWith("-hostkey")).map((r) => r.name);
    expect(commands).toHaveLength(2 * 50 + 4);
    expect(s.changes).toEqual(commands.map((n): [string, string, string[]] => ["update", n, ["stdin"]]).sort((a, b) => a[1].localeCompare(b[1])));
  });

  test("invariants: no delete script runs (no tenant is locked out, no zone or firewall is dropped)", () => {
    expect(invariantViolations(s, () => true)).toEqual([]);
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
