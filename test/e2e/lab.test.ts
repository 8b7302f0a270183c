/**
 * The data plane, for real, in both tenant-network modes: per mode one lab bring-up (2 tenants, both VPN servers with
 * both instances, QEMU consoles, end-user clients; in fixed mode the services VM's DHCP too) shared by every check in
 * lab/checks.ts that applies to the mode, in order. fixed first (the lab's default: the LibreRouter image as shipped),
 * with every check; then distinct, without those the mode plays no part in (Check.modeIndependent: OpenVPN's
 * authentication path, the client side), to keep both labs within CI's budget. One after the other (the checks count
 * processes machine-wide). Needs root; nothing leaves the namespaces.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { bringUp } from "../../lab/bringup";
import { BAN_USER } from "../../render/bans/enforce";
import { CHECKS } from "../../lab/checks";
import { run } from "../../lab/exec";
import { Lab } from "../../lab/lab";
import { LAB_TRUNK } from "../../lab/layout";
import { alive } from "../../lab/procs";
import { LAB_MODES } from "../../lab/stack";
import { MARKER_IP, ROUTER_WAN, outsiderMgmtIp } from "../../lab/topology";

const addrs = async (ns: string, dev: string) => [...(await run(["ip", "-4", "-o", "addr", "show", "dev", dev], { ns })).stdout.matchAll(/ inet (\S+) .*$/gm)].map((m) => m[0].trim());

/** Whether the ban grid's daemon user exists (the lab makes it for real when missing, and deletes it again). */
const banUser = () => spawnSync("id", ["-u", BAN_USER]).status === 0;
const banUserBefore = banUser();

for (const mode of LAB_MODES) {
  describe(`lab data plane, ${mode} mode`, () => {
    const lines: string[] = [];
    const results: string[] = [];
    // The monitoring's and the ban grid's checks are mode-independent: the second mode's lab runs none of them, so
    // it brings neither up.
    const first = mode === LAB_MODES[0];
    const lab = new Lab({ tenants: 2, mode, monitoring: first, banGrid: first, log: (l) => lines.push(l) });
    let upError: Error | undefined;
    let t0 = 0;

    beforeAll(async () => {
      t0 = Date.now();
      try {
        await bringUp(lab);
      } catch (e) {
        upError = e as Error;
      }
    }, 120_000);

    afterAll(async () => {
      // The measured figures (bring-up steps, failover seconds, …) belong in the CI log.
      results.push(`[lab] ${mode} mode: ${((Date.now() - t0) / 1000).toFixed(1)}s from bring-up to teardown`);
      process.stdout.write(`${[...lines, ...results].join("\n")}\n`);
      await lab.teardown();
    }, 60_000);

    it("comes up: topology, PKI, consoles, 4 OpenVPN instances, every client connected", () => {
      if (upError) throw upError;
      expect(lab.plan.tenantNetwork.mode).toBe(mode);
      expect([...lab.servers.keys()].sort()).toEqual(["vpn1-tcp", "vpn1-udp", "vpn2-tcp", "vpn2-udp"]);
      expect([...lab.clients.keys()].sort()).toEqual(lab.plan.tenants.map((t) => t.key).sort());
      expect([...lab.qemus.keys()].sort()).toEqual(lab.plan.tenants.map((t) => t.key).sort());
    });

    it("the host bridges the public side without routing it: no address on its public bridge, ip_forward 0; the services VM and the outsider on the management bridge; the ban grid up", async () => {
      if (upError) throw upError;
      const host = lab.ns.host;
      expect(await addrs(host, lab.plan.bridges.public)).toEqual([]);
      expect((await run(["sysctl", "-n", "net.ipv4.ip_forward"], { ns: host })).stdout.trim()).toBe("0");
      expect(await addrs(lab.ns.svc, "mgmt")).toEqual([expect.stringMatching(new RegExp(`^inet ${lab.plan.services.mgmtIp.replace(/\./g, "\\.")}/${lab.plan.mgmt.prefix} `))]);
      expect(await addrs(lab.ns.x, "mgmt")).toEqual([expect.stringMatching(new RegExp(`^inet ${outsiderMgmtIp(lab.plan).replace(/\./g, "\\.")}/`))]);
      if (first) expect(lab.grid?.daemons.size).toBe(lab.plan.bans.report ? 8 : 7);
      else expect(lab.grid).toBeUndefined();
    });

    it("each VPN server's trunk came up as ens19 and was renamed by MAC to the layout's name by the setup script, and is UP", async () => {
      for (const s of lab.plan.servers) {
        const trunk = lab.layouts[s.name].ifaces.trunk;
        const link = (await run(["ip", "-o", "link", "show", "dev", trunk], { ns: lab.ns[s.name] })).stdout;
        expect(link).toMatch(new RegExp(`^\\d+: ${trunk}@${LAB_TRUNK.peer}: <BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP .* link/ether ${LAB_TRUNK.mac[s.name]} `));
        expect((await run(["ip", "link", "show", "dev", LAB_TRUNK.name], { ns: lab.ns[s.name] })).code).not.toBe(0);
      }
    });

    if (mode === "fixed") {
      it("every tenant router has the appliance's 10.0.0.1/24 on its LAN bridge and the same marker; the VPN servers have 10.0.0.2 / 10.0.0.3 on every tenant link, without a prefix route", async () => {
        if (upError) throw upError;
        for (const t of lab.plan.tenants) {
          expect(await addrs(lab.ns.lr[t.key], "br0")).toEqual([expect.stringMatching(/^inet 10\.0\.0\.1\/24 /)]);
          expect(await addrs(lab.ns.lr[t.key], "lo")).toEqual([expect.stringMatching(/^inet 127\.0\.0\.1\/8 /), expect.stringMatching(new RegExp(`^inet ${MARKER_IP.replace(/\./g, "\\.")}/32 `))]);
          for (const [i, s] of lab.plan.servers.entries()) {
            expect(await addrs(lab.ns[s.name], t.link)).toEqual([expect.stringMatching(new RegExp(`^inet 10\\.0\\.0\\.${i + 2}/24 .* noprefixroute`))]);
          }
        }
        for (const s of lab.plan.servers) expect((await run(["ip", "-4", "route", "show", "table", "main", "10.0.0.0/24"], { ns: lab.ns[s.name] })).stdout).toBe("");
      });
    } else {
      it("no DHCP server runs; each router's WAN has cloud-init's address and gateway", async () => {
        if (upError) throw upError;
        expect(lab.dhcpServer).toBeUndefined();
        for (const t of lab.plan.tenants) {
          expect(await addrs(lab.ns.lr[t.key], ROUTER_WAN)).toEqual([expect.stringMatching(new RegExp(`^inet ${t.publicIp.replace(/\./g, "\\.")}/${t.publicPrefix} `))]);
        }
      });
    }

    for (const check of CHECKS) {
      // A check that does not apply to this mode, or that proves nothing the mode changes (run by the fixed lab), is
      // listed with the reason in the printed results.
      if (check.only && check.only.mode !== mode) {
        results.push(`[lab] ${check.id} n/a: ${mode} mode: ${check.only.why}`);
        continue;
      }
      if (check.modeIndependent && mode !== LAB_MODES[0]) {
        results.push(`[lab] ${check.id} run in the ${LAB_MODES[0]}-mode lab only: ${check.modeIndependent}`);
        continue;
      }
      it(`${check.id}: ${check.title}`, async () => {
        if (upError) throw new Error(`bring-up failed: ${upError.message}`);
        const tc = Date.now();
        const detail = await check.run(lab);
        results.push(`[lab] ${check.id} PASS ${((Date.now() - tc) / 1000).toFixed(2)}s: ${detail}`);
      }, 90_000);
    }

    it("teardown removes every namespace, process and file of the run", async () => {
      const pids = lab.procs.all.map((p) => p.pid);
      const namespaces = [...lab.netns.created];
      expect(namespaces.length).toBeGreaterThan(0);
      if (mode === "fixed") expect(pids).toContain(lab.dhcpServer?.pid);
      await lab.teardown();
      const list = (await run(["ip", "netns", "list"])).stdout;
      expect(namespaces.filter((ns) => list.includes(ns))).toEqual([]);
      expect(pids.filter(alive)).toEqual([]);
      expect(namespaces.filter((ns) => existsSync(`/etc/netns/${ns}`))).toEqual([]);
      expect(existsSync(lab.dir)).toBe(false);
      expect(banUser()).toBe(banUserBefore);
    }, 60_000);
  });
}
