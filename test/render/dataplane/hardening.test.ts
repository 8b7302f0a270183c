/**
 * The VPN servers' own surface (review L3, L6, L7, L9, L10): what LR-IN accepts, the ARP limits on tenant links,
 * the session kill that fails loudly, the OpenVPN unit's process limit, the runtime directory's mode, the pinned
 * control channel, and the services VM's public INPUT policy. The lab's no-enumeration, public-closed and
 * reconnect-storm checks and test/e2e (dataplane-scripts, services-firewall) run them for real.
 */
import { KERNEL_LOG_PREFIX, KERNEL_LOG_RATES } from "../../../render/bans/kernel-log";
import { filterRules, renderDataplaneTool } from "../../../render/dataplane";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { renderServerConfig } from "../../../render/openvpn-server";
import { OPENVPN_NPROC, SYSCTL_DROPIN, openvpnUnitDropin, renderServerSetupScript, runDirTmpfiles, serverDirs } from "../../../render/server-setup";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { servicesFirewallRules, servicesFirewallScript, servicesScripts } from "../../../render/services";
import type { Plan } from "../../../plan/types";
import { shellcheck } from "../../tools/shellcheck";
import { shellFunctionBody, twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const [vpn1] = plan.servers;
const L = PRODUCTION_SERVER_LAYOUT;
const tool = renderDataplaneTool(plan, vpn1, L);
const body = (name: string): string[] => shellFunctionBody(tool, name);
/** LR-IN without the enrolment responder's lines (render/enrol-peer.ts owns those). */
const lrIn = filterRules(plan, vpn1, L).filter((l) => l.startsWith("-A LR-IN") && !l.includes("--dport 4194"));

describe("LR-IN on a VPN server", () => {
  it("is exactly: public echo limited first, conntrack, own gateway / own-link echo only, tenant drops, public OpenVPN ports (the flood line before UDP's), the probe line, public drop", () => {
    expect(lrIn).toEqual([
      "-A LR-IN -i eth0 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT",
      "-A LR-IN -i eth0 -p icmp -m icmp --icmp-type 8 -j DROP",
      "-A LR-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-A LR-IN -d 10.255.0.1/32 -i tun-udp -p icmp -m icmp --icmp-type 8 -j ACCEPT",
      "-A LR-IN -d 10.255.64.1/32 -i tun-tcp -p icmp -m icmp --icmp-type 8 -j ACCEPT",
      "-A LR-IN -p icmp -m devgroup --src-group 0x4c52 -m addrtype --dst-type LOCAL --limit-iface-in -m icmp --icmp-type 8 -j ACCEPT",
      // The console page: each instance's gateway, from its own pool only.
      "-A LR-IN -s 10.255.0.0/18 -d 10.255.0.1/32 -i tun-udp -p tcp -m tcp --dport 443 -j ACCEPT",
      "-A LR-IN -s 10.255.64.0/18 -d 10.255.64.1/32 -i tun-tcp -p tcp -m tcp --dport 443 -j ACCEPT",
      "-A LR-IN -d 10.255.0.1/32 -p tcp -m tcp --dport 443 -j DROP",
      "-A LR-IN -d 10.255.64.1/32 -p tcp -m tcp --dport 443 -j DROP",
      "-A LR-IN -i tun-udp -j DROP",
      "-A LR-IN -i tun-tcp -j DROP",
      "-A LR-IN -m devgroup --src-group 0x4c52 -j DROP",
      '-A LR-IN -d 192.0.2.3/32 -i eth0 -p udp -m udp --dport 1194 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 20/sec --hashlimit-burst 40 --hashlimit-mode srcip --hashlimit-name lr-flood -m limit --limit 50/sec --limit-burst 100 -j LOG --log-prefix "lr-flood: "',
      "-A LR-IN -d 192.0.2.3/32 -i eth0 -p udp -m udp --dport 1194 -j ACCEPT",
      "-A LR-IN -d 192.0.2.3/32 -i eth0 -p tcp -m tcp --dport 443 -j ACCEPT",
      '-A LR-IN -d 192.0.2.3/32 -i eth0 -m conntrack --ctstate NEW -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 30 --hashlimit-mode srcip --hashlimit-name lr-probe -m limit --limit 50/sec --limit-burst 100 -j LOG --log-prefix "lr-probe: "',
      "-A LR-IN -i eth0 -j DROP",
    ]);
  });

  describe("the ban grid's kernel log lines (render/bans/kernel-log.ts)", () => {
    const logs = lrIn.filter((l) => l.includes("-j LOG"));
    const at = (l: string) => lrIn.indexOf(l);
    const [flood, probe] = [KERNEL_LOG_PREFIX.flood, KERNEL_LOG_PREFIX.probe].map((p) => logs.find((l) => l.endsWith(`--log-prefix "${p}"`))!);

    it("are LOG only (no rule of LR-IN accepts or drops anything more than before), for new flows to the public address on the public side", () => {
      expect(logs).toEqual([flood, probe]);
      for (const l of logs) {
        expect(l).toMatch(/ -j LOG --log-prefix "[a-z-]+: "$/);
        expect(l).toContain(` -d ${vpn1.publicIp}/32 -i ${L.ifaces.public} `);
        expect(l).toContain(" -m conntrack --ctstate NEW ");
        expect(l).toContain(` -m limit --limit ${KERNEL_LOG_RATES.global.limit}/sec --limit-burst ${KERNEL_LOG_RATES.global.burst} `);
      }
      const rest = lrIn.filter((l) => !logs.includes(l));
      expect(rest.filter((l) => l.includes("hashlimit") || l.includes("LOG"))).toEqual([]);
    });

    it("the flood line: UDP to the OpenVPN port above the per-source rate, right before that port's accept", () => {
      const udp = vpn1.instances.find((i) => i.proto === "udp")!;
      const accept = `-A LR-IN -d ${vpn1.publicIp}/32 -i ${L.ifaces.public} -p udp -m udp --dport ${udp.port} -j ACCEPT`;
      expect(at(flood)).toBe(at(accept) - 1);
      expect(flood).toContain(` -p udp -m udp --dport ${udp.port} `);
      expect(flood).toContain(` -m hashlimit --hashlimit-above ${KERNEL_LOG_RATES.flood.above}/sec --hashlimit-burst ${KERNEL_LOG_RATES.flood.burst} --hashlimit-mode srcip `);
    });

    it("the probe line: whatever new reaches the public drop, at most the per-source rate, right before it", () => {
      expect(at(probe)).toBe(at(`-A LR-IN -i ${L.ifaces.public} -j DROP`) - 1);
      expect(at(probe)).toBeGreaterThan(Math.max(...vpn1.instances.map((i) => at(`-A LR-IN -d ${vpn1.publicIp}/32 -i ${L.ifaces.public} -p ${i.proto} -m ${i.proto} --dport ${i.port} -j ACCEPT`))));
      expect(probe).not.toContain(" -p ");
      expect(probe).toContain(` -m hashlimit --hashlimit-upto ${KERNEL_LOG_RATES.probe.perSource}/sec --hashlimit-burst ${KERNEL_LOG_RATES.probe.burst} --hashlimit-mode srcip `);
    });
  });

  it("the public drop is LR-IN's last rule (the lab's control deletes and re-appends it)", () => {
    expect(filterRules(plan, vpn1, L).filter((l) => l.startsWith("-A LR-IN")).pop()).toBe("-A LR-IN -i eth0 -j DROP");
  });
});

describe("ARP limits on tenant links", () => {
  it("the drop-in and lr-dataplane set the default for links made later; every tenant link gets them too", () => {
    expect(SYSCTL_DROPIN.content).toContain("\nnet.ipv4.conf.default.arp_ignore = 1\nnet.ipv4.conf.default.arp_announce = 2\n");
    expect(body("arp_defaults")).toEqual([`printf '1' >/proc/sys/net/ipv4/conf/default/arp_ignore`, `printf '2' >/proc/sys/net/ipv4/conf/default/arp_announce`]);
    expect(body("set_sysctls")).toContain("arp_defaults");
    const apply = body("cmd_apply");
    expect(apply.indexOf("arp_defaults")).toBeGreaterThan(-1);
    expect(apply.indexOf("arp_defaults")).toBeLessThan(apply.indexOf("run_batch"));
    expect(body("link_sysctls")).toEqual(expect.arrayContaining([`printf '1' >"/proc/sys/net/ipv4/conf/$name/arp_ignore"`, `printf '2' >"/proc/sys/net/ipv4/conf/$name/arp_announce"`]));
  });
});

describe("kill_sessions", () => {
  it("dies when a socket is there and socat is not, when a running unit does not answer, and when a running unit has no socket", () => {
    expect(body("kill_sessions")).toEqual([
      "local p s unit",
      'for p in "$SOCK1|$UNIT1" "$SOCK2|$UNIT2"; do',
      "s=${p%|*} unit=${p#*|}",
      "if [[ -S $s ]]; then",
      `[[ -x $SOCAT ]] || die "cannot end $1's live sessions: no $SOCAT to talk to $s (apt-get install socat, then run this again)"`,
      `printf 'kill %s\\nquit\\n' "$1" | "$TIMEOUT" 5 "$SOCAT" -t 1 - "UNIX-CONNECT:$s" >/dev/null 2>&1 && continue`,
      `! unit_active "$unit" || die "cannot end $1's live sessions: $unit is active but $s does not answer"`,
      'elif unit_active "$unit"; then',
      `die "cannot end $1's live sessions: $unit is active but has no management socket $s"`,
      "fi",
      "done",
    ]);
    expect(tool).toContain("\nUNIT1=openvpn-server@udp.service\n");
    expect(tool).toContain("\nUNIT2=openvpn-server@tcp.service\n");
    expect(body("unit_active")).toEqual(['[[ -d /run/systemd/system && -x $SYSTEMCTL ]] && "$SYSTEMCTL" is-active --quiet "$1"']);
  });
});

describe("OpenVPN unit and runtime directory", () => {
  const setup = renderServerSetupScript(plan, vpn1, L, [], { trunkMac: "bc:24:11:5e:00:01" });

  it("a drop-in raises LimitNPROC for every openvpn-server@ instance; setup installs it and restarts OpenVPN when it changes", () => {
    const dropin = openvpnUnitDropin(L);
    expect(dropin.path).toBe("/etc/systemd/system/openvpn-server@.service.d/librerouter.conf");
    expect(dropin.content.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
      "[Service]",
      `LimitNPROC=${OPENVPN_NPROC}`,
      // The console gateway's group reads the status file (the instance name is the proto: status-udp.log, status-tcp.log).
      "ExecStartPre=+/usr/bin/install -m 0640 -o root -g lr-console /dev/null /run/openvpn-server/status-%i.log",
      "",
    ]);
    for (const proto of ["udp", "tcp"] as const) expect(openvpnFilePaths(L).statusFiles[proto]).toBe(`/run/openvpn-server/status-${proto}.log`);
    expect(OPENVPN_NPROC).toBe(64);
    expect(setup).toContain(`lr_write '/etc/systemd/system/openvpn-server@.service.d/librerouter.conf' 0644 root:root <<'LR_B64'\n${Buffer.from(openvpnUnitDropin(L).content).toString("base64").replace(/.{1,76}/g, "$&\n")}LR_B64`);
    expect(setup).toContain("'/etc/openvpn/server/'* | '/etc/systemd/system/openvpn-server@.service.d/librerouter.conf') restart=yes ;;");
  });

  it("/run/openvpn-server stays 0710 (Debian's tmpfiles mode: the status files list tenants' real IPs), its group the console gateway's, also after a reboot", () => {
    expect(serverDirs(L).find((d) => d.path === "/run/openvpn-server")).toEqual({ path: "/run/openvpn-server", mode: "0710", owner: "root:lr-console" });
    expect(setup).toContain("\ninstall -d -m 0710 -o root -g lr-console '/run/openvpn-server'\n");
    // Sorts before Debian's openvpn.conf, so its line wins at boot.
    expect(runDirTmpfiles(L)).toEqual({ path: "/etc/tmpfiles.d/librerouter-openvpn.conf", mode: "0644", content: expect.stringContaining("\nd /run/openvpn-server 0710 root lr-console -\n") });
    expect("librerouter-openvpn.conf" < "openvpn.conf").toBe(true);
  });
});

describe("control channel and mssfix", () => {
  const conf = (id: string) => renderServerConfig(plan.stack, vpn1, plan.instances.find((i) => i.id === id)!, L).split("\n");

  it.each(["vpn1-udp", "vpn1-tcp"])("%s pins the TLS groups and the TLS 1.2 suites", (id) => {
    expect(conf(id)).toEqual(expect.arrayContaining(["tls-groups X25519:prime256v1", "tls-cipher TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384:TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"]));
  });

  it("mssfix only on UDP", () => {
    expect(conf("vpn1-udp").filter((l) => l.startsWith("mssfix"))).toEqual(["mssfix 1450"]);
    expect(conf("vpn1-tcp").filter((l) => l.startsWith("mssfix"))).toEqual([]);
  });
});

describe("services VM public INPUT policy", () => {
  it("DNS on its public address only, echo limited before conntrack, the ban report gateway from the pools only, everything else dropped", () => {
    expect(servicesFirewallRules(plan)).toEqual([
      "*filter",
      ":LR-PUB - [0:0]",
      "-A LR-PUB -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT",
      "-A LR-PUB -p icmp -m icmp --icmp-type 8 -j DROP",
      "-A LR-PUB -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      `-A LR-PUB -d ${plan.services.publicIp}/32 -p udp -m udp --dport 53 -j ACCEPT`,
      `-A LR-PUB -d ${plan.services.publicIp}/32 -p tcp -m tcp --dport 53 -j ACCEPT`,
      ...plan.publicPools.map((p) => `-A LR-PUB -s ${p.cidr} -d ${plan.services.publicIp}/32 -p tcp -m tcp --dport 8081 -j ACCEPT`),
      "-A LR-PUB -j DROP",
      "COMMIT",
    ]);
  });

  it("with bans.report.enabled false, no report gateway port", () => {
    const off: Plan = { ...plan, bans: { ...plan.bans, report: undefined } };
    expect(servicesFirewallRules(off).filter((l) => l.includes("8081"))).toEqual([]);
  });

  it("apply installs the loader and its boot unit and runs it; delete removes the jump, the chain and both files; all shellcheck-clean", () => {
    const { apply, delete: del } = servicesScripts(plan);
    expect(apply).toContain("\nsystemctl enable librerouter-services-firewall.service\n'/etc/librerouter/services-firewall'\n");
    expect(del).toContain("\n  while iptables -D INPUT -i eth0 -j LR-PUB 2>/dev/null; do :; done\n  if iptables -F LR-PUB 2>/dev/null; then iptables -X LR-PUB; fi\n");
    expect(del).toContain("\nrm -f '/etc/librerouter/services-firewall' '/etc/systemd/system/librerouter-services-firewall.service'\n");
    for (const s of [apply, del, servicesFirewallScript(plan)]) expect(shellcheck(s)).toEqual({ ok: true, report: "" });
  });
});
