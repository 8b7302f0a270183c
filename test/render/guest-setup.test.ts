/**
 * What the guest scripts do on a stock Debian 12 cloud image: packages installed only when
 * missing, after cloud-init, apt waiting for the dpkg lock; the trunk MAC validated. The package step runs here
 * for real against fake dpkg-query / apt-get / cloud-init on PATH (no root, nothing installed).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVICES_PACKAGES, VPN_PACKAGES, ensurePackages } from "../../render/guest-packages";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { renderServerSetupScript } from "../../render/server-setup";
import { servicesScripts } from "../../render/services";
import { twoTenantPlan } from "./dataplane/fixture";

const plan = twoTenantPlan();
const setup = (trunkMac: string) => renderServerSetupScript(plan, plan.servers[0], PRODUCTION_SERVER_LAYOUT, [], { trunkMac });

describe("package step", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lr-pkg-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs ensurePackages(packages) with fakes: `installed` are known to dpkg; cloud-init exits `ciExit` (absent if undefined). */
  function run(packages: readonly string[], installed: readonly string[], ciExit?: number): { code: number; out: string; err: string; log: string } {
    const fake = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/bash\nprintf '%s\\n' "${name} $* DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-}" >>${dir}/log\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    fake("dpkg-query", `case " ${installed.join(" ")} " in *" \${@: -1} "*) printf 'install ok installed' ;; *) echo "dpkg-query: no packages found matching \${@: -1}" >&2; exit 1 ;; esac`);
    fake("apt-get", "exit 0");
    if (ciExit !== undefined) fake("cloud-init", `exit ${ciExit}`);
    writeFileSync(join(dir, "log"), "");
    const r = spawnSync("bash", ["-c", `set -euo pipefail\n${ensurePackages(packages)}\necho done`], { env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, LC_ALL: "C" }, encoding: "utf8" });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr, log: readFileSync(join(dir, "log"), "utf8") };
  }

  it("all installed: dpkg-query asked for each package, apt never runs", () => {
    const r = run(VPN_PACKAGES, VPN_PACKAGES);
    expect(r).toEqual({ code: 0, out: "done\n", err: "", log: VPN_PACKAGES.map((p) => `dpkg-query -W -f=\${Status} ${p} DEBIAN_FRONTEND=\n`).join("") });
  });

  it("missing ones: cloud-init waited for first, then apt with the lock timeout, noninteractive, only the missing", () => {
    const r = run(VPN_PACKAGES, ["iproute2", "procps", "nftables"], 0);
    expect(r.code).toBe(0);
    expect(r.out).toBe("installed: openvpn iptables socat\ndone\n");
    expect(r.log.split("\n").filter((l) => !l.startsWith("dpkg-query"))).toEqual([
      "cloud-init status --wait DEBIAN_FRONTEND=",
      "apt-get -o DPkg::Lock::Timeout=600 update -q DEBIAN_FRONTEND=noninteractive",
      "apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends openvpn iptables socat DEBIAN_FRONTEND=noninteractive",
      "",
    ]);
  });

  it("cloud-init's 'recoverable error' (2) passes silently; another failure is a warning, never a stop", () => {
    expect(run(SERVICES_PACKAGES, [], 2)).toMatchObject({ code: 0, err: "" });
    expect(run(SERVICES_PACKAGES, [], 1)).toMatchObject({ code: 0, out: "installed: bind9 bind9-utils iptables\ndone\n", err: "warning: cloud-init status --wait exited 1 (see /var/log/cloud-init.log); continuing\n" });
  });

  it("a failing apt stops the script", () => {
    const r = run(["openvpn"], [], 0);
    expect(r.code).toBe(0);
    writeFileSync(join(dir, "apt-get"), "#!/bin/bash\necho 'E: Could not get lock /var/lib/dpkg/lock-frontend' >&2\nexit 100\n");
    const again = spawnSync("bash", ["-c", `set -euo pipefail\n${ensurePackages(["openvpn"])}\necho done`], { env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir }, encoding: "utf8" });
    expect({ code: again.status, out: again.stdout }).toEqual({ code: 100, out: "" });
  });

  it("refuses a package name that is not one", () => {
    expect(() => ensurePackages(["openvpn; rm -rf /"])).toThrow('not a Debian package name: "openvpn; rm -rf /"');
  });

  it("both guest scripts run the step before writing anything", () => {
    const vpn = setup("bc:24:11:5e:00:01");
    expect(vpn.indexOf(ensurePackages(VPN_PACKAGES))).toBeGreaterThan(0);
    expect(vpn.indexOf(ensurePackages(VPN_PACKAGES))).toBeLessThan(vpn.indexOf("lr_write "));
    const svc = servicesScripts(plan).apply;
    expect(svc.indexOf(ensurePackages(SERVICES_PACKAGES))).toBeGreaterThan(0);
    expect(svc.indexOf(ensurePackages(SERVICES_PACKAGES))).toBeLessThan(svc.indexOf("lr_write "));
    expect(svc).not.toContain("apt-get update -q\n");
  });
});

describe("trunk MAC", () => {
  it("is taken in any case and written lowercase (the guest's spelling)", () => {
    expect(setup("BC:24:11:5E:00:01")).toBe(setup("bc:24:11:5e:00:01"));
    expect(setup("BC:24:11:5E:00:01")).toContain("\nTRUNK_MAC=bc:24:11:5e:00:01\n");
  });

  it.each(["", "bc:24:11:5e:00", "bc-24-11-5e-00-01", "01:00:5e:00:00:01", "00:00:00:00:00:00", "bc:24:11:5e:00:01; reboot"])("refuses %j with the parameter and the fix", (mac) => {
    expect(() => setup(mac)).toThrow(`setup for vpn1: nics.trunkMac ${JSON.stringify(mac)} is not a unicast MAC address like bc:24:11:5e:00:01; pass the VM's networkDevices[1].macAddress`);
  });
});
