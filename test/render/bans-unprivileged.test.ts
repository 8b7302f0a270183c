/**
 * The ban grid runs unprivileged (issue 11): crowdsec (agent and LAPI) as BAN_USER with no capability, the bouncer
 * with CAP_NET_ADMIN only, root keeping only its own jobs (the nft table loader, the resync); the install step makes
 * the user before any file is its; cscli never runs as root against the LAPI's database. Running them for real, with
 * each daemon's uid and capabilities checked, is lab/ban-grid.ts (test/e2e/ban-grid.test.ts and the lab's ban checks).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BanMemberName } from "../../plan/bans";
import { hubItems } from "../../render/bans/crowdsec";
import { BAN_OWNER, BAN_USER, systemdUnits } from "../../render/bans/enforce";
import { banGridOutput } from "../../render/bans/output";
import { type BanPaths, PRODUCTION_PATHS } from "../../render/bans/paths";
import { enrolScript, memberFiles, setupScript, teardownScript } from "../../render/bans/setup";
import { SANDBOX_LINES } from "../../render/systemd-sandbox";
import { SECRETS, args, bans, plan } from "./bans/fixture";

const MEMBERS: BanMemberName[] = ["vpn1", "vpn2", "host", "services"];
const member = (n: BanMemberName) => bans.members.find((m) => m.name === n)!;
const PRIVILEGE_KEYS = ["User", "Group", "DynamicUser", "SupplementaryGroups", "AmbientCapabilities", "CapabilityBoundingSet", "NoNewPrivileges", "ReadWritePaths"];

/** The privilege settings of a unit's text (last assignment wins, as systemd reads them). */
function privileges(unit: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of unit.split("\n")) {
    const [k, ...v] = line.split("=");
    if (PRIVILEGE_KEYS.includes(k) && v.length) out[k] = v.join("=");
  }
  return out;
}

const unitsOf = (n: BanMemberName, p: BanPaths = PRODUCTION_PATHS) => Object.fromEntries(memberFiles(bans, { ...args(n), paths: p }).units.map((u) => [u.path.replace("/etc/systemd/system/", ""), u.content]));

describe("systemd drop-ins", () => {
  it.each(MEMBERS)("crowdsec on %s (its agent; the LAPI too on services): the daemons' user, the journal group, no capability, writes only its data dir", (n) => {
    const agent = unitsOf(n)["crowdsec.service.d/librerouter.conf"];
    expect(privileges(agent)).toEqual({ User: BAN_USER, Group: BAN_USER, SupplementaryGroups: "systemd-journal", CapabilityBoundingSet: "", AmbientCapabilities: "", NoNewPrivileges: "yes", ReadWritePaths: PRODUCTION_PATHS.data });
    for (const l of SANDBOX_LINES.split("\n")) expect(agent.split("\n")).toContain(l);
  });

  it.each(["vpn1", "vpn2", "host"] as const)("the bouncer on %s: the daemons' user with CAP_NET_ADMIN alone, writes nothing", (n) => {
    const bouncer = unitsOf(n)["crowdsec-firewall-bouncer.service.d/librerouter.conf"];
    expect(privileges(bouncer)).toEqual({ User: BAN_USER, Group: BAN_USER, AmbientCapabilities: "CAP_NET_ADMIN", CapabilityBoundingSet: "CAP_NET_ADMIN", NoNewPrivileges: "yes" });
    for (const l of SANDBOX_LINES.split("\n")) expect(bouncer.split("\n")).toContain(l);
  });

  it("the data dir granted is the member's own, wherever its tree lives", () => {
    const p = { ...PRODUCTION_PATHS, data: "/srv/lr-test/data" };
    expect(privileges(systemdUnits(bans, member("vpn1"), p)[0].content).ReadWritePaths).toBe(p.data);
  });

  it("no command runs as root but the nft table loader and the resync (root's jobs)", () => {
    const asRoot = new Set<string>();
    for (const n of MEMBERS)
      for (const [path, unit] of Object.entries(unitsOf(n))) {
        if (!/^Exec(Start|StartPre|StartPost|Reload)=./m.test(unit)) continue;
        const p = privileges(unit);
        if (p.DynamicUser === "yes" || (p.User && p.User !== "root")) continue;
        asRoot.add(path);
      }
    expect([...asRoot].sort()).toEqual(["lr-ban-resync.service", "lr-ban-table.service"]);
  });
});

describe("files and cscli", () => {
  it.each(MEMBERS)("on %s every secret file is 0600 and the daemons' (the gateway's config root's); units are root's", (n) => {
    const owners = new Map([...setupScript(bans, args(n)).matchAll(/^\s*lr_write '([^']+)' (\d+) (\S+) <</gm)].map((m) => [m[1], { mode: m[2], owner: m[3] }]));
    const { files, units } = memberFiles(bans, args(n));
    for (const f of files) expect([f.path, owners.get(f.path)]).toEqual([f.path, { mode: f.mode, owner: f.path === PRODUCTION_PATHS.reportConfig ? "root:root" : BAN_OWNER }]);
    for (const u of units) expect([u.path, owners.get(u.path)?.owner]).toEqual([u.path, "root:root"]);
  });

  it("ops run cscli as the daemons' user, and so does the enrolment", () => {
    const ops = banGridOutput(plan).ops;
    for (const k of ["list", "show", "lift", "ban", "alerts"] as const) expect([k, ops[k].startsWith(`runuser -u ${BAN_USER} -- cscli -c ${PRODUCTION_PATHS.etc}/config.yaml `)]).toEqual([k, true]);
    expect(ops.members.split("; ").every((c) => c.startsWith(`runuser -u ${BAN_USER} -- cscli `))).toBe(true);
    const enrol = enrolScript(bans, PRODUCTION_PATHS, SECRETS, "test").split("\n");
    expect(enrol.filter((l) => l.includes("lr-ban-enrol.py"))).toEqual([`runuser -u ${BAN_USER} -- /usr/bin/python3 '${PRODUCTION_PATHS.bin}/lr-ban-enrol.py' <<'LR_ENROL'`]);
  });

  it("removing a member deletes the daemons' user after its files", () => {
    const t = teardownScript(bans, { member: "vpn1", paths: PRODUCTION_PATHS });
    expect(t).toMatch(new RegExp(`rm -rf -- '${PRODUCTION_PATHS.etc}' '${PRODUCTION_PATHS.data}'\\nuserdel ${BAN_USER} `));
  });
});

/**
 * The setup script for real, in a scratch tree, with the commands that touch the machine's users, ownership or
 * firewall replaced by loggers: what it asks of useradd, chown and cscli, in order. Needs the crowdsec placeholder the
 * install step otherwise writes to /etc/crowdsec (present wherever Debian's crowdsec is installed, as in CI).
 */
describe("the install step", () => {
  const placeholder = "/etc/crowdsec/online_api_credentials.yaml";
  const ready = (() => {
    try {
      return statSync(placeholder).size > 0;
    } catch {
      return false;
    }
  })();
  const fakes: Record<string, string> = {
    id: `[ "$1" = -u ] && [ "$2" = "$FAKE_USER" ] && [ -n "$FAKE_USER_EXISTS" ] && { echo 990; exit 0; }\nexit 1`,
    useradd: 'echo "useradd $*" >>"$FAKE_LOG"',
    chown: 'echo "chown $*" >>"$FAKE_LOG"',
    nft: '[ "$1" = list ] && exit 1; exit 0',  // no table yet: the install step loads it
    runuser: 'echo "runuser $*" >>"$FAKE_LOG"; echo "url: x"; echo "login: services"; echo "password: p"',
  };
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lr-ban-unpriv-"));
    mkdirSync(`${dir}/bin`);
    for (const [name, body] of Object.entries(fakes)) {
      writeFileSync(`${dir}/bin/${name}`, `#!/bin/sh\n${body}\n`);
      chmodSync(`${dir}/bin/${name}`, 0o755);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the member's setup script with a fresh tree; the logged commands. */
  function install(n: BanMemberName, userExists: boolean): string[] {
    const root = mkdtempSync(join(dir, `${n}-`));
    const p: BanPaths = { etc: `${root}/etc`, data: `${root}/data`, hub: `${root}/hub`, patterns: `${root}/patterns`, caCert: `${root}/etc/tls/ca.crt`, lapiCert: `${root}/etc/tls/lapi.crt`, lapiKey: `${root}/etc/tls/lapi.key`, bouncerConfig: `${root}/bouncer.yaml`, reportConfig: `${root}/etc/report.json`, reportState: `${root}/data/state.json`, bin: `${root}/bin` };
    for (const item of hubItems(member(n))) {
      mkdirSync(join(p.hub, item, ".."), { recursive: true });
      writeFileSync(join(p.hub, item), "");
    }
    const log = `${root}/log`;
    writeFileSync(log, "");
    writeFileSync(`${root}/setup.sh`, setupScript(bans, { ...args(n), paths: p }));
    const r = spawnSync("bash", [`${root}/setup.sh`], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, LR_SERVICES: "none", FAKE_LOG: log, FAKE_USER: BAN_USER, FAKE_USER_EXISTS: userExists ? "1" : "" } });
    expect({ code: r.status, err: r.stderr }).toEqual({ code: 0, err: "" });
    if (n === "services") expect(statSync(`${p.etc}/local_api_credentials.yaml`).mode & 0o777).toBe(0o600);
    return readFileSync(log, "utf8").trim().split("\n").map((l) => l.replaceAll(root, "<root>"));
  }

  (ready ? it : it.skip)("makes the system user when it is missing, before anything is chowned to it; never when it exists", () => {
    const made = install("vpn1", false);
    expect(made[0]).toBe(`useradd --system --no-create-home --home-dir <root>/data --shell /usr/sbin/nologin --user-group ${BAN_USER}`);
    expect(made.filter((l) => l.startsWith("useradd"))).toHaveLength(1);
    expect(made.slice(1).every((l) => l.startsWith("chown "))).toBe(true);
    expect(made).toContain(`chown -R ${BAN_OWNER} <root>/data`);
    expect(install("vpn1", true).filter((l) => l.startsWith("useradd"))).toEqual([]);
  });

  (ready ? it : it.skip)("makes the services VM's own machine with cscli as the daemons' user, its credentials 0600 and theirs", () => {
    const log = install("services", true);
    expect(log.filter((l) => l.startsWith("runuser"))).toEqual([`runuser -u ${BAN_USER} -- cscli -c <root>/etc/config.yaml machines add ${member("services").machine} --auto --force -u ${bans.lapi.url} -f -`]);
    expect(log).toContain(`chown ${BAN_OWNER} <root>/etc/local_api_credentials.yaml.lrtmp`);
  });
});
