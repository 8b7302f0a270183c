/**
 * The ban grid under mocks (components/ban-grid.ts) on the minimal stack: which commands it registers on which
 * machine, in which order, with which secrets, and what the stack outputs tell ops and tenants. What mocks cannot
 * prove: that CrowdSec acts on the files (the lab runs them: lab/check-bans.ts), nor replace-vs-update
 * (scenarios.test.ts, "ban grid").
 */
import { createHmac } from "node:crypto";
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import { PRODUCTION_PATHS } from "../../render/bans/paths";
import { type ProgramRun, type Recorded, byName, fakePassword, isSecret, plainStrings, reveal, runProgram, writtenFiles } from "./harness";

const ROOT = `${__dirname}/../..`;
const plan = buildPlan(readStackFile(ROOT, "minimal"), "minimal");
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("minimal", readStackFile(ROOT, "minimal"));
  if (run.error) throw run.error;
}, 300_000);

const get = (name: string): Recorded => byName(run.resources, name);
const urn = (name: string) => get(name).urn;
/** The apply script a remote command carries (its stdin, secret wrapper removed). */
const stdin = (name: string) => String(reveal(get(name).inputs.stdin));
const GRID_COMMANDS = ["bans-services", "bans-services-enrol", "bans-vpn1", "bans-vpn2", "bans-host"];
/** The grid's own secrets (fake RandomPassword results are stable per resource name and length). */
const SECRETS = [
  ...["vpn1", "vpn2", "host", "reportgw"].map((m) => fakePassword(`bans-machine-${m}`, 40)),
  ...["fw-vpn1", "fw-vpn2", "fw-host"].map((b) => fakePassword(`bans-bouncer-${b}`, 40)),
  fakePassword("bans-report-token-key", 64),
];

test("one command per member and the enrolment, each a secret with no logged output", () => {
  for (const name of GRID_COMMANDS) {
    const c = get(name);
    expect({ name, stdinSecret: isSecret(c.inputs.stdin), logging: c.inputs.logging }).toEqual({ name, stdinSecret: true, logging: "none" });
    expect(c.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
  }
});

test("order: the store after the services VM's own setup, the enrolment after the store, each member after its own setup and the enrolment", () => {
  const deps = (n: string) => get(n).options.dependencies;
  expect(deps("bans-services")).toEqual(expect.arrayContaining([urn("services-setup")]));
  expect(deps("bans-services-enrol")).toEqual(expect.arrayContaining([urn("bans-services")]));
  for (const m of ["vpn1", "vpn2"]) expect(deps(`bans-${m}`)).toEqual(expect.arrayContaining([urn(`${m}-setup`), urn("bans-services-enrol")]));
  expect(deps("bans-host")).toEqual(expect.arrayContaining([urn("host-console-firewall"), urn("bans-services-enrol")]));
});

test("each member's commands go to that machine (guests through the host at their management address), guests' carry the VM's identity", () => {
  const host = (n: string) => (reveal(get(n).inputs.connection) as { host: string }).host;
  expect(["bans-services", "bans-services-enrol"].map(host)).toEqual([plan.services.mgmtIp, plan.services.mgmtIp]);
  expect(host("bans-vpn1")).toBe(plan.servers[0].mgmtIp);
  expect(host("bans-vpn2")).toBe(plan.servers[1].mgmtIp);
  expect(host("bans-host")).toBe("pve-minimal.example.net");
  for (const n of ["bans-services", "bans-vpn1", "bans-vpn2"]) expect(stdin(n)).toMatch(/^# target: [0-9A-F:]{17}\n/);
  expect(stdin("bans-host")).not.toContain("# target:");
});

test("the services VM gets the LAPI (its certificate for its management address), the profile and the gateway signed-token key; the others their credentials", () => {
  const files = writtenFiles(stdin("bans-services"));
  expect([...files.keys()]).toEqual(expect.arrayContaining([`${PRODUCTION_PATHS.etc}/config.yaml`, `${PRODUCTION_PATHS.etc}/profiles.yaml`, PRODUCTION_PATHS.lapiKey, PRODUCTION_PATHS.reportConfig]));
  expect(files.get(PRODUCTION_PATHS.lapiKey)?.mode).toBe("0600");
  expect(files.get(`${PRODUCTION_PATHS.etc}/config.yaml`)?.content).toContain(`listen_uri: ${plan.services.mgmtIp}:8080`);
  const gw = JSON.parse(files.get(PRODUCTION_PATHS.reportConfig)?.content ?? "{}") as Record<string, unknown>;
  expect({ tenants: gw.tenants, tokenKey: gw.tokenKey, password: gw.password }).toEqual({ tenants: {}, tokenKey: fakePassword("bans-report-token-key", 64), password: fakePassword("bans-machine-reportgw", 40) });
  const csr = get("bans-lapi-csr").inputs;
  expect(csr.ipAddresses).toEqual([plan.services.mgmtIp]);
  const vpn1 = writtenFiles(stdin("bans-vpn1"));
  expect(vpn1.get(`${PRODUCTION_PATHS.etc}/local_api_credentials.yaml`)).toEqual({ mode: "0600", content: `url: https://${plan.services.mgmtIp}:8080/\nlogin: vpn1\npassword: ${fakePassword("bans-machine-vpn1", 40)}\nca_cert_path: ${PRODUCTION_PATHS.caCert}\n` });
  expect(vpn1.get(PRODUCTION_PATHS.bouncerConfig)?.content).toContain(`api_key: ${fakePassword("bans-bouncer-fw-vpn1", 40)}\n`);
  expect(vpn1.get(`${PRODUCTION_PATHS.etc}/acquis.yaml`)?.content).toContain('"_SYSTEMD_UNIT=openvpn-server@udp.service"');
  expect(writtenFiles(stdin("bans-host")).get(`${PRODUCTION_PATHS.etc}/acquis.yaml`)?.content).toContain('"_SYSTEMD_UNIT=pvedaemon.service"');
});

test("the enrolment carries every machine and bouncer secret on the script's stdin, never on a command line", () => {
  const s = stdin("bans-services-enrol");
  const json = JSON.parse(/<<'LR_ENROL'\n(.*)\nLR_ENROL\n/s.exec(s)?.[1] ?? "{}") as { machines: Record<string, string>; bouncers: Record<string, string> };
  expect(json.machines).toEqual({ vpn1: SECRETS[0], vpn2: SECRETS[1], host: SECRETS[2], reportgw: SECRETS[3] });
  expect(json.bouncers).toEqual({ "fw-vpn1": SECRETS[4], "fw-vpn2": SECRETS[5], "fw-host": SECRETS[6] });
  for (const secret of SECRETS) expect(s.split("\n").filter((l) => l.includes(secret) && !l.startsWith("{"))).toEqual([]);
});

test("no plain input or plain output anywhere holds one of the grid's secrets or a tenant's token", () => {
  const tokens = plan.tenants.map((t) => createHmac("sha256", SECRETS[7]).update(`lr-ban-report|${t.key}|${t.publicIp}`).digest("hex"));
  const all = [...SECRETS, ...tokens];
  const leaks = run.resources.flatMap((r) => plainStrings(r.inputs).filter((s) => all.some((x) => s.text.includes(x))).map((s) => `${r.name}.${s.path}`));
  expect(leaks).toEqual([]);
  const plainOutputs = Object.entries(run.outputs).filter(([, v]) => !v.secret);
  expect(plainOutputs.filter(([, v]) => all.some((x) => JSON.stringify(v.value).includes(x))).map(([k]) => k)).toEqual([]);
});

test("each tenant's router config: the gateway URL and its token, the HMAC of its key and address under the grid's key (secret output)", () => {
  const out = run.outputs.tenantSecrets;
  expect(out.secret).toBe(true);
  const acme = plan.tenants.find((t) => t.key === "acme");
  if (!acme) throw new Error("no acme");
  const cfg = (reveal(out.value) as Record<string, { banReportConfig: string }>).acme.banReportConfig;
  const mac = createHmac("sha256", SECRETS[7]).update(`lr-ban-report|acme|${acme.publicIp}`).digest("hex");
  expect(cfg).toContain(`\nLR_BAN_URL=http://${plan.services.publicIp}:8081/v1/report\nLR_BAN_TOKEN=acme.${mac}\n`);
});

test("the banGrid output: where bans are enforced, what is never banned, durations, the ops commands; plain and credential-free", () => {
  const g = run.outputs.banGrid;
  expect(g.secret).toBe(false);
  const v = g.value as { enforcement: Record<string, string>; neverBan: string[]; banDurations: string[]; ops: Record<string, string>; tenantReports: { url: string } };
  expect(v.enforcement).toEqual({ vpn1: "nft list set inet lrban ban4", vpn2: "nft list set inet lrban ban4", host: "nft list set bridge lrban ban4" });
  expect(v.neverBan).toEqual(plan.bans.neverBan);
  expect(v.neverBan).toContain(plan.mgmt.cidr);
  expect(v.banDurations).toEqual(["10m", "20m", "40m", "1h20m", "2h40m", "5h20m", "10h40m", "21h20m", "24h"]);
  expect(v.ops.lift).toBe(`runuser -u lr-crowdsec -- cscli -c ${PRODUCTION_PATHS.etc}/config.yaml decisions delete -i <IP>`);
  expect(v.ops.where).toBe(`as root on the services VM: ssh -J root@pve-minimal.example.net root@${plan.services.mgmtIp}`);
  expect(v.tenantReports.url).toBe(`http://${plan.services.publicIp}:8081/v1/report`);
});
