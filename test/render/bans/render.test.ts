/**
 * The ban grid's rendered files: what protects, what bans for how long, how fast, and where the secrets go.
 * Running them for real is test/e2e/ban-grid.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { contains, parseCidr } from "../../../lib/ipv4";
import type { BanMemberName } from "../../../plan/bans";
import { acquisition, crowdsecConfig, profilesYaml } from "../../../render/bans/crowdsec";
import { bouncerConfig, nftTable, systemdUnits } from "../../../render/bans/enforce";
import { allowlistParser, openvpnScenario } from "../../../render/bans/items";
import { PRODUCTION_PATHS } from "../../../render/bans/paths";
import { enrolInput, memberFiles, setupScript } from "../../../render/bans/setup";
import { shellcheck } from "../../tools/shellcheck";
import { ALL_SECRETS, SECRETS, args, bans, plan } from "./fixture";

const MEMBERS: BanMemberName[] = ["vpn1", "vpn2", "host", "services"];
const member = (n: BanMemberName) => bans.members.find((m) => m.name === n)!;
const SCRIPTS = join(__dirname, "../../../render/scripts");

describe("protection", () => {
  it("every enforcement point's allow4 holds every protected address and the allowlist, accepted before ban4", () => {
    for (const n of ["vpn1", "vpn2", "host"] as const) {
      const nft = nftTable(bans, member(n));
      const allow = /set allow4 \{[^}]*elements = \{ ([^}]*) \}/.exec(nft)?.[1].split(", ");
      expect([n, allow]).toEqual([n, [...bans.neverBan]]);
      for (const line of nft.split("\n").filter((l) => l.includes("hook"))) expect(line.indexOf("@allow4 accept")).toBeLessThan(line.indexOf("@ban4"));
    }
    expect(bans.neverBan).toEqual(expect.arrayContaining([plan.mgmt.cidr, `${plan.servers[0].publicIp}/32`, `${plan.services.publicIp}/32`, `${plan.host.publicIp}/32`, "203.0.113.0/28"]));
  });

  it("the host's table is bridge-family (frames to every VM), hooked before everything else; the VPN servers' inet", () => {
    expect(nftTable(bans, member("host"))).toMatch(/table bridge lrban \{[\s\S]*chain forward \{ type filter hook forward priority -200;[\s\S]*chain input \{ type filter hook input priority -200;/);
    expect(nftTable(bans, member("vpn1"))).toMatch(/table inet lrban \{[\s\S]*hook input priority -10;[\s\S]*hook forward priority -10;/);
    expect(() => nftTable(bans, member("services"))).toThrow("services enforces nothing");
  });

  it("the agents' whitelist parser lists exactly neverBan", () => {
    expect((parse(allowlistParser(bans)) as { whitelist: { cidr: string[] } }).whitelist.cidr).toEqual([...bans.neverBan]);
  });

  it("the gateway refuses the whole scope, takes each tenant's token from its own address only", () => {
    const gw = memberFiles(bans, args("services")).files.find((f) => f.path === PRODUCTION_PATHS.reportConfig)!;
    const cfg = JSON.parse(gw.content) as { protected: string[]; tenants: Record<string, { token: string; sources: string[] }>; quotaPerHour: number; requireGlobal: boolean; listen: string };
    expect(cfg.protected).toEqual(bans.report?.scope);
    const covered = (c: string) => cfg.protected.some((p) => parseCidr(p).prefix <= parseCidr(c).prefix && contains(parseCidr(p), parseCidr(c).base));
    const must = [...bans.protected, ...bans.allowlist, ...plan.publicPools.map((p) => p.cidr), ...plan.tenants.map((t) => `${t.publicIp}/32`)];
    expect(must.filter((c) => !covered(c))).toEqual([]);
    expect(cfg.tenants.acme).toEqual({ token: SECRETS.tokens.acme, sources: [plan.tenants.find((t) => t.key === "acme")!.publicIp] });
    expect(Object.keys(cfg.tenants).sort()).toEqual(["acme", "beta"]);
    expect({ quota: cfg.quotaPerHour, global: cfg.requireGlobal, listen: cfg.listen }).toEqual({ quota: 20, global: true, listen: `${plan.services.publicIp}:8081` });
  });
});

describe("durations and speed", () => {
  it("profiles.yaml: first ban banTime, then doubling up to the cap, counted within the window", () => {
    const p = parse(profilesYaml(bans)) as { decisions: { duration: string }[]; duration_expr: string; filters: string[] };
    expect(p.decisions).toEqual([{ type: "ban", duration: "15m" }]);
    const c = "GetDecisionsSinceCount(Alert.GetValue(), '168h')";
    expect(p.duration_expr).toBe(`${c} < 1 ? '15m' : (${c} < 2 ? '30m' : ('1h'))`);
    expect(p.filters).toEqual(['Alert.Remediation == true && Alert.GetScope() == "Ip"']);
  });

  it("factor 1: no duration_expr, every ban the same", () => {
    expect(profilesYaml({ ...bans, profile: { ...bans.profile, durations: ["10m"] } })).not.toContain("duration_expr");
  });

  it("the OpenVPN scenario's bucket: capacity retries−1, leak findTime/retries", () => {
    const [bf] = parseAllDocuments(openvpnScenario(bans)).map((d) => d.toJSON() as Record<string, unknown>);
    expect({ capacity: bf.capacity, leakspeed: bf.leakspeed, blackhole: bf.blackhole, remediation: (bf.labels as Record<string, unknown>).remediation }).toEqual({ capacity: 4, leakspeed: "2m", blackhole: "1m", remediation: true });
  });

  it("bouncer: set-only in table lrban, polls every pollSeconds, never daemonized, IPv4 explicitly on", () => {
    const b = parse(bouncerConfig(bans, PRODUCTION_PATHS, "k").content) as Record<string, unknown>;
    expect(b).toMatchObject({ update_frequency: "3s", daemonize: false, mode: "nftables", blacklists_ipv4: "ban4", api_url: bans.lapi.url, ca_cert_path: PRODUCTION_PATHS.caCert });
    expect(b.nftables).toEqual({ ipv4: { enabled: true, "set-only": true, table: "lrban", chain: "input" }, ipv6: { enabled: false } });
  });
});

describe("crowdsec config", () => {
  it("only the services VM runs the LAPI: on its management address, TLS, our profile, no Central API; the others are agents only", () => {
    const svc = parse(crowdsecConfig(bans, member("services"), PRODUCTION_PATHS)) as Record<string, Record<string, unknown>>;
    expect(svc.api.server).toEqual({ log_level: "info", listen_uri: `${plan.services.mgmtIp}:8080`, profiles_path: "/etc/crowdsec/lr/profiles.yaml", trusted_ips: ["127.0.0.1"], tls: { cert_file: PRODUCTION_PATHS.lapiCert, key_file: PRODUCTION_PATHS.lapiKey } });
    expect(svc.db_config).toMatchObject({ type: "sqlite", flush: { max_age: "168h", max_items: 500000 } });
    expect(JSON.stringify(svc)).not.toContain("online_client");
    const vpn = parse(crowdsecConfig(bans, member("vpn1"), PRODUCTION_PATHS)) as Record<string, Record<string, unknown>>;
    expect(vpn.api.server).toEqual({ enable: false });
    expect(vpn.db_config).toBeUndefined();
  });

  it("acquisition per role from the journal: both OpenVPN units, the console gateway and the kernel, sshd + pvedaemon on the host, named on services", () => {
    const units = (n: BanMemberName) => parseAllDocuments(acquisition(member(n), { kind: "journal" })).flatMap((d) => (d.toJSON() as { journalctl_filter: string[] }).journalctl_filter);
    expect(units("vpn1")).toEqual(["_SYSTEMD_UNIT=openvpn-server@udp.service", "_SYSTEMD_UNIT=openvpn-server@tcp.service", "_SYSTEMD_UNIT=lr-console-web.service", "_TRANSPORT=kernel"]);
    expect(units("host")).toEqual(["_SYSTEMD_UNIT=ssh.service", "_SYSTEMD_UNIT=pvedaemon.service"]);
    expect(units("services")).toEqual(["_SYSTEMD_UNIT=named.service"]);
  });

  it("systemd: the bouncer waits for the LAPI, is Type=simple and restarts; the agent restarts; a resync timer", () => {
    const units = Object.fromEntries(systemdUnits(bans, member("vpn1"), PRODUCTION_PATHS).map((u) => [u.path.replace("/etc/systemd/system/", ""), u.content]));
    const bouncer = units["crowdsec-firewall-bouncer.service.d/librerouter.conf"];
    for (const l of ["Type=simple", "Restart=always", "TimeoutStartSec=infinity", `ExecStartPre=/usr/local/lib/librerouter/lr-ban-wait-lapi.sh ${bans.lapi.url}health ${PRODUCTION_PATHS.caCert}`]) expect(bouncer.split("\n")).toContain(l);
    expect(units["crowdsec.service.d/librerouter.conf"].split("\n")).toContain("Restart=always");
    expect(units["lr-ban-resync.timer"]).toContain("OnUnitActiveSec=5min");
    expect(Object.keys(systemdUnits(bans, member("services"), PRODUCTION_PATHS).map((u) => u.path))).toHaveLength(1);
  });
});

describe("secrets", () => {
  it("go only into 0600 files, and every member's file set holds only its own", () => {
    for (const n of MEMBERS) {
      const { files } = memberFiles(bans, args(n));
      for (const f of files) for (const s of ALL_SECRETS) if (f.content.includes(s)) expect([n, f.path, f.mode]).toEqual([n, f.path, "0600"]);
      const mine = files.map((f) => f.content).join("");
      const own = n === "services" ? [SECRETS.machines.reportgw, ...Object.values(SECRETS.tokens), "lapi-key-Ff6"] : [SECRETS.machines[n], SECRETS.bouncers[`fw-${n}`]];
      expect([n, ALL_SECRETS.filter((s) => mine.includes(s)).sort()]).toEqual([n, own.sort()]);
    }
  });

  it("never appear in clear in a setup script (base64 inside lr_write only)", () => {
    for (const n of MEMBERS) for (const s of ALL_SECRETS) expect([n, setupScript(bans, args(n)).includes(s)]).toEqual([n, false]);
  });

  it("enrolment input names every remote machine and bouncer with its secret; the services VM's own agent is local", () => {
    const input = JSON.parse(enrolInput(bans, PRODUCTION_PATHS, SECRETS)) as { machines: Record<string, string>; bouncers: Record<string, string>; lapi: string };
    expect(Object.keys(input.machines).sort()).toEqual(["host", "reportgw", "vpn1", "vpn2"]);
    expect(input.bouncers).toEqual(SECRETS.bouncers);
    expect(input.lapi).toBe(bans.lapi.url);
    expect(() => enrolInput(bans, PRODUCTION_PATHS, { machines: {}, bouncers: {} })).toThrow("enrolInput: no secret for vpn1, vpn2, host, reportgw, fw-vpn1, fw-vpn2, fw-host");
  });
});

describe("scripts", () => {
  it.each(MEMBERS)("the setup script of %s is shellcheck-clean", (n) => {
    expect(shellcheck(setupScript(bans, args(n)))).toEqual({ ok: true, report: "" });
  });

  it("the LAPI wait is shellcheck-clean sh", () => {
    const r = spawnSync("shellcheck", ["--format=gcc", "--severity=style", "--enable=all", "--exclude=SC2250,SC2248", join(SCRIPTS, "lr-ban-wait-lapi.sh")], { encoding: "utf8" });
    expect({ code: r.status, out: r.stdout }).toEqual({ code: 0, out: "" });
  });

  it.each(["lr-ban-report.py", "lr-ban-enrol.py"])("%s compiles with Debian's python3 (py_compile)", (f) => {
    const r = spawnSync("/usr/bin/python3", ["-c", "import os, shutil, sys, tempfile, py_compile; d = tempfile.mkdtemp(); py_compile.compile(sys.argv[1], cfile=os.path.join(d, 'c.pyc'), doraise=True); shutil.rmtree(d)", join(SCRIPTS, f)], { encoding: "utf8" });
    expect({ code: r.status, err: r.stderr }).toEqual({ code: 0, err: "" });
  });

  it("writes the crowdsec credentials file before anything installs crowdsec (its postinst fails offline otherwise)", () => {
    const s = setupScript(bans, args("vpn1"));
    expect(s.indexOf("/etc/crowdsec/online_api_credentials.yaml")).toBeGreaterThan(0);
    expect(s.indexOf("/etc/crowdsec/online_api_credentials.yaml")).toBeLessThan(s.indexOf("apt-get install"));
  });
});
