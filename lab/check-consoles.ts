/**
 * The tenants' text and browser consoles (issue 12), end to end through a tenant's own tunnel: client namespace →
 * OpenVPN → the instance gateway's console page (lr-console-web on the VPN server) → the host's management network
 * (the QEMU's VNC display, the serial bridge) → the tenant's running TCG QEMU in SeaBIOS. ./consoles.ts installs and
 * starts every piece from rendered text; these checks drive them as the tenant would (HTTPS and WebSocket from
 * ./console-client.ts, a real Chromium from ./browser.ts) and as `pulumi up` does (the password rotation).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { consoleUrls } from "../plan/consoles";
import type { InstancePlan, TenantPlan } from "../plan/types";
import { clientBundleName } from "../render/client-bundle";
import { vncPasswordFileName } from "../render/vnc";
import { assertConsoleShot, bundleCa, closeBrowser, consoleSession, launchBrowser, PHONE, screenshotScreen, screenshotText } from "./browser";
import { fail } from "./check-kit";
import { connectCount, pushedAddress, startClient, stopClient, waitForConnection } from "./clients";
import { cookieOf, errorOf, type Gateway, https, login, refusedSerial, type Res, type Serial, serialSession, wsOpen } from "./console-client";
import { describeQemuCosts, qemuCosts, qmp, rotateVncPassword, vncPassword } from "./consoles";
import { must, sleep } from "./exec";
import { type Lab, secs } from "./lab";
import { tcpOpens } from "./probe";
import { alive, readLog } from "./procs";
import { rfbInNamespace } from "./rfb";
import { killServer, startServer } from "./servers";

/** Why the tenant network mode plays no part (test/e2e/lab.test.ts runs these in one mode's lab only). */
const MODE_FREE = "the consoles go tunnel → instance gateway → the host's management network, never through the tenant LAN";

const password = (lab: Lab, t: TenantPlan) => lab.vncPasswords.get(t.key) ?? fail(`${t.key}: no console password`);
const wrong = (pw: string) => (pw === "wrongpw1" ? "wrongpw2" : "wrongpw1");

/** The instance the tenant's client is on now (its tunnel address), if any. */
function onInstance(lab: Lab, t: TenantPlan): InstancePlan | undefined {
  const ip = pushedAddress(lab.clients.get(t.key)?.log ?? "");
  return lab.plan.instances.find((i) => t.tunnelIps[i.id] === ip);
}

/** The console page of instance `inst` as seen from tenant `t`'s client namespace (through its tunnel). */
function gatewayFor(lab: Lab, t: TenantPlan, inst: InstancePlan): Gateway {
  return { ns: lab.ns.c[t.key], address: inst.gateway, port: lab.plan.consoles.webPort, caPem: lab.pki.caPem };
}

/** The tenant's gateway on the instance its client is on (fails when it has no tunnel). */
function ownGateway(lab: Lab, t: TenantPlan): { inst: InstancePlan; g: Gateway } {
  const inst = onInstance(lab, t) ?? fail(`${t.key}: client has no tunnel (${pushedAddress(lab.clients.get(t.key)?.log ?? "") || "no address"})`);
  return { inst, g: gatewayFor(lab, t, inst) };
}

function expectRes(r: Res, status: number, error: string | undefined, what: string): void {
  if (r.status !== status || (error !== undefined && errorOf(r) !== error)) fail(`${what}: HTTP ${r.status} ${r.body.trim().slice(0, 200)}, expected ${status}${error ? ` "${error}"` : ""}`);
}

/** Logs in with `pw` and returns the cookie (fails unless 200 for tenant `t`). */
async function loggedIn(g: Gateway, t: TenantPlan, pw: string, what: string): Promise<{ cookie: string; ms: number }> {
  const r = await login(g, pw);
  expectRes(r, 200, undefined, what);
  const tenant = (JSON.parse(r.body) as { tenant?: string }).tenant;
  if (tenant !== t.key) fail(`${what}: logged in as ${tenant}, not ${t.key}`);
  return { cookie: cookieOf(r), ms: r.ms };
}

/** An attached /ws/serial session (the gateway's empty attach message came), after the replay has arrived. */
async function attached(g: Gateway, cookie: string, pw: string, what: string): Promise<{ s: Serial; ms: number }> {
  const t0 = Date.now();
  const s = await serialSession(g, cookie, pw);
  if (typeof s === "number") fail(`${what}: /ws/serial refused with HTTP ${s}`);
  await s.until(() => s.messages > 0 || s.closed !== undefined, "the gateway's attach message");
  if (s.closed || s.firstLength !== 0) fail(`${what}: /ws/serial ${s.closed ? `closed ${JSON.stringify(s.closed)}` : `began with ${s.firstLength} bytes, not the empty attach message`}`);
  const ms = Date.now() - t0;
  // The bridge's replay of the buffered output follows the attach message; wait until it has all come.
  for (let n = -1, quiet = 0; quiet < 3 && Date.now() - t0 < 5000; quiet = s.text.length === n ? quiet + 1 : 0, n = s.text.length) await sleep(100);
  return { s, ms };
}

/**
 * Through `g`: the tenant's serial console after a reset of its VM (QMP system_reset, as `qm reset`): this boot's
 * SeaBIOS banner and prompt arrive, ESC (our input) opens the boot menu. Returns the measured times.
 */
async function bootMenu(lab: Lab, t: TenantPlan, g: Gateway, cookie: string, pw: string, what: string): Promise<{ attach: number; banner: number; menu: number; replay: boolean }> {
  const { s, ms: attach } = await attached(g, cookie, pw, what);
  try {
    const replay = s.text.includes("SeaBIOS (version ");
    const from = s.text.length;
    await qmp(lab, t, [{ execute: "system_reset" }]);
    const banner = await s.until(() => s.indexOf("SeaBIOS (version ", from) >= 0 && s.indexOf("Press ESC for boot menu.", from) >= 0, `${what}: SeaBIOS and its prompt after the reset`, 20_000);
    s.send("\x1b");
    const menu = await s.until(() => s.indexOf("Select boot device:", from) >= 0, `${what}: the boot menu after ESC`, 10_000);
    return { attach, banner, menu, replay };
  } finally {
    s.close();
  }
}

/** Which bridge attaches were made since `from` (log offset): `vm=<vmid> from=<ip>`. */
function bridgeAttaches(lab: Lab, from: number): string[] {
  const log = readLog(lab.serialBridge?.log ?? fail("the serial bridge is not running")).slice(from);
  return [...log.matchAll(/attach vm=(\d+) from=([\d.]+):/g)].map((m) => `vm=${m[1]} from=${m[2]}`);
}

async function consoleText(lab: Lab): Promise<string> {
  const [t, o] = lab.plan.tenants;
  const pw = password(lab, t);
  const { inst, g } = ownGateway(lab, t);
  const server = lab.plan.servers.find((s) => s.name === inst.server)!;
  const page = await https(g, "GET", "/");
  if (page.status !== 200 || !page.body.includes("Router console")) fail(`${t.key}: the console page at ${inst.gateway}: HTTP ${page.status}`);
  // No console without the password: no WebSocket without a login, no login without a password or with a wrong one.
  const anon = await wsOpen(g, "/ws/serial", undefined);
  if (anon.status !== 401) fail(`${t.key}: /ws/serial without a login: ${anon.ws ? "opened" : `HTTP ${anon.status}`}, expected 401`);
  expectRes(await login(g, undefined), 400, "password required", `${t.key}: login without a password`);
  const bad = await login(g, wrong(pw));
  expectRes(bad, 403, "wrong password", `${t.key}: login with a wrong password`);
  if (bad.headers["set-cookie"]) fail(`${t.key}: a wrong password got a cookie`);
  const ok = await loggedIn(g, t, pw, `${t.key}: login with its password`);
  const badSerial = await refusedSerial(g, ok.cookie, wrong(pw));
  if (badSerial.code !== 4001 || badSerial.text !== "") fail(`${t.key}: /ws/serial with a wrong password closed ${badSerial.code} "${badSerial.reason}" after ${badSerial.text.length} bytes, expected 4001 and nothing`);
  const from = readLog(lab.serialBridge!.log).length;
  const menu = await bootMenu(lab, t, g, ok.cookie, pw, t.key);
  if (!menu.replay) fail(`${t.key}: attaching replayed no SeaBIOS output (the bridge's buffer of the boot)`);

  // The other tenant's tunnel: acme's cookie is not his, acme's password does not open his console; his own does.
  const oi = ownGateway(lab, o);
  for (const path of ["/ws/serial", "/ws/vnc"]) {
    const r = await wsOpen(oi.g, path, ok.cookie);
    if (r.status !== 401) fail(`${o.key}'s tunnel with ${t.key}'s cookie: ${path} ${r.ws ? "opened" : `HTTP ${r.status}`}, expected 401`);
  }
  expectRes(await https(oi.g, "GET", "/session", { headers: { Cookie: ok.cookie } }), 401, undefined, `${o.key}'s tunnel with ${t.key}'s cookie: /session`);
  expectRes(await login(oi.g, pw), 403, "wrong password", `${o.key}'s tunnel with ${t.key}'s password`);
  const own = await loggedIn(oi.g, o, password(lab, o), `${o.key}: login with its own password`);
  const theirs = await attached(oi.g, own.cookie, password(lab, o), o.key);
  theirs.s.close();
  const attaches = bridgeAttaches(lab, from);
  const want = [`vm=${t.vmid} from=${server.mgmtIp}`, `vm=${o.vmid} from=${lab.plan.servers.find((s) => s.name === oi.inst.server)!.mgmtIp}`];
  if (JSON.stringify(attaches) !== JSON.stringify(want)) fail(`the serial bridge attached ${JSON.stringify(attaches)}, expected ${JSON.stringify(want)} (each tenant his own VM, by the gateway)`);
  // Nor does a tunnel reach the bridge itself: not on the host's management address, not on the gateway.
  const port = lab.plan.consoles.serialBridgePort;
  const direct = await Promise.all([t, o].flatMap((x) => [lab.plan.host.mgmtIp, inst.gateway].map(async (ip) => ((await tcpOpens(lab.ns.c[x.key], ip, port)) ? [`${x.key} → ${ip}:${port}`] : []))));
  if (direct.flat().length) fail(`a tunnel opens the serial bridge directly: ${direct.flat().join(", ")}`);
  const cost = describeQemuCosts(qemuCosts(lab));
  lab.log(`[lab] qemu cost (TCG, idle in SeaBIOS): ${cost}`);
  return (
    `${t.key} via ${inst.id}: no login 401, no password 400, wrong 403 (${secs(bad.ms)}), login ${secs(ok.ms)}, wrong on /ws/serial 4001; ` +
    `serial attached ${menu.attach} ms (replay has SeaBIOS), after a reset SeaBIOS prompt ${menu.banner} ms, ESC → "Select boot device:" ${menu.menu} ms; ` +
    `${o.key}'s tunnel: ${t.key}'s cookie 401, ${t.key}'s password 403, own login and serial OK (bridge: ${attaches.join(", ")}); bridge port closed to both tunnels; qemu: ${cost}`
  );
}

async function consoleBrowser(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[0];
  const pw = password(lab, t);
  const { inst } = ownGateway(lab, t);
  const url = consoleUrls([inst], lab.plan.consoles)[inst.id];
  // What the tenant holds: the CA of his rendered bundle, nothing else.
  const caPem = bundleCa(readFileSync(lab.path("clients", t.key, clientBundleName(t)), "utf8"));
  mkdirSync(lab.screenshotsDir, { recursive: true, mode: 0o755 });
  const files = { screen: join(lab.screenshotsDir, "console-screen.png"), text: join(lab.screenshotsDir, "console-text.png") };
  const browser = await launchBrowser({ ns: lab.ns.c[t.key], caPem, dir: lab.dirPath("browser", t.key), viewport: PHONE, log: lab.log });
  let detail: string;
  try {
    const refused = await consoleSession(browser, url, wrong(pw));
    if (refused.loginResult !== "refused" || !refused.refusal.startsWith("Wrong password.")) fail(`a wrong password in the page: ${refused.loginResult} "${refused.refusal}", expected refused "Wrong password. …"`);
    await refused.page.close();
    // A fresh boot: the screen shows SeaBIOS (not a blank from an earlier clear), the text console this boot's output.
    await qmp(lab, t, [{ execute: "system_reset" }]);
    const s = await consoleSession(browser, url, pw);
    if (s.loginResult !== "ready" || s.refusal) fail(`the right password in the page: ${s.loginResult} "${s.refusal}"`);
    const [w, h] = await s.page.evaluate(() => [(globalThis as unknown as { innerWidth: number }).innerWidth, (globalThis as unknown as { innerHeight: number }).innerHeight]);
    if (w !== PHONE.width || h !== PHONE.height) fail(`viewport ${w}x${h}, not the phone's ${PHONE.width}x${PHONE.height}`);
    const screen = await screenshotScreen(s.page, files.screen);
    const text = await screenshotText(s.page, files.text);
    // From the files on disk, as anyone checking DIR would.
    const shares = { screen: assertConsoleShot(files.screen, "screen"), text: assertConsoleShot(files.text, "text", "SeaBIOS") };
    detail =
      `${url} in ${lab.ns.c[t.key]} (CA from ${t.key}'s bundle only, ${PHONE.width}x${PHONE.height}): wrong password refused "${refused.refusal}" (${secs(refused.ms.login)}); ` +
      `page ${secs(s.ms.load)}, login ${secs(s.ms.login)}; screen shot after ${secs(screen.facts.ms)} (content ${(shares.screen.region * 100).toFixed(1)}% of the canvas), ` +
      `text after ${secs(text.facts.ms)} (${(shares.text.region * 100).toFixed(1)}%): ${files.screen}, ${files.text}`;
    await s.page.close();
  } finally {
    await closeBrowser(browser);
  }
  lab.log(`[lab] console screenshots: ${files.screen} ${files.text} (+ .json sidecars)`);
  return detail;
}

async function consoleRotate(lab: Lab): Promise<string> {
  const [t, o] = lab.plan.tenants;
  const old = password(lab, t);
  let fresh = vncPassword();
  while (fresh === old) fresh = vncPassword();
  const { inst, g } = ownGateway(lab, t);
  const oi = ownGateway(lab, o);
  const oFile = `${lab.hostLayout.snippetsDir}/${vncPasswordFileName(o)}`;
  const oBytes = readFileSync(oFile);
  const pids = [t, o].map((x) => lab.qemus.get(x.key)?.pid ?? fail(`${x.key}: QEMU not running`));
  const vnc = (x: TenantPlan, via: InstancePlan, pw: string) => rfbInNamespace(lab.ns.c[x.key], via.gateway, 5900, pw);
  // Controls: the old password opens both consoles before the rotation.
  if ((await vnc(t, inst, old)).result !== "OK") fail(`control: ${t.key}'s VNC console refuses its current password`);
  const before = await loggedIn(g, t, old, `control: ${t.key}'s login with its current password`);

  const t0 = Date.now();
  const out = await rotateVncPassword(lab, t, fresh);
  const rotateMs = Date.now() - t0;
  if (out !== `vm ${t.vmid}: console password set on the running VM`) fail(`the rotation script said ${JSON.stringify(out)}`);
  const [oldVnc, newVnc] = [await vnc(t, inst, old), await vnc(t, inst, fresh)];
  if (oldVnc.result !== "FAILED") fail(`${t.key}'s VNC console with the old password after the rotation: ${oldVnc.result}, expected FAILED`);
  if (newVnc.result !== "OK" || !newVnc.serverInit?.name.includes(t.vmName)) fail(`${t.key}'s VNC console with the new password: ${newVnc.result} "${newVnc.serverInit?.name ?? ""}"`);
  const oldLogin = await login(g, old);
  expectRes(oldLogin, 403, "wrong password", `${t.key}'s login with the old password after the rotation`);
  const after = await loggedIn(g, t, fresh, `${t.key}'s login with the new password`);
  // The cookie from before is still a login, but the serial console checks the password again.
  const oldSerial = await refusedSerial(g, before.cookie, old);
  if (oldSerial.code !== 4001) fail(`${t.key}'s /ws/serial with the old password: closed ${oldSerial.code} "${oldSerial.reason}", expected 4001`);
  const serial = await attached(g, after.cookie, fresh, `${t.key} with the new password`);
  serial.s.close();
  // The same QEMU processes: no restart of either VM.
  const now = [t, o].map((x) => lab.qemus.get(x.key)?.pid);
  if (JSON.stringify(now) !== JSON.stringify(pids) || !pids.every(alive)) fail(`a QEMU was restarted by the rotation: pids ${JSON.stringify(pids)} → ${JSON.stringify(now)}`);
  // The other tenant: his snippet untouched, his password still opens his consoles, acme's new one does not.
  if (!readFileSync(oFile).equals(oBytes)) fail(`${o.key}'s password file changed`);
  if ((await vnc(o, oi.inst, password(lab, o))).result !== "OK") fail(`${o.key}'s VNC console refuses his password after ${t.key}'s rotation`);
  if ((await vnc(o, oi.inst, fresh)).result !== "FAILED") fail(`${o.key}'s VNC console accepts ${t.key}'s new password`);
  await loggedIn(oi.g, o, password(lab, o), `${o.key}'s login after ${t.key}'s rotation`);
  return (
    `rotation (snippet + rendered script, QMP set_password) ${secs(rotateMs)} on the running VM (same QEMU pid): ` +
    `old password VNC FAILED, login 403 (${secs(oldLogin.ms)}), /ws/serial 4001; new one VNC OK, login OK, serial attached ${serial.ms} ms; ${o.key}'s file, VNC and login untouched`
  );
}

/** Login and the serial console (reset, SeaBIOS, ESC → boot menu) through instance `inst`'s gateway. */
export async function consoleOn(lab: Lab, t: TenantPlan, inst: InstancePlan): Promise<string> {
  const g = gatewayFor(lab, t, inst);
  const pw = password(lab, t);
  const r = await loggedIn(g, t, pw, `${t.key}'s login via ${inst.id}`);
  const m = await bootMenu(lab, t, g, r.cookie, pw, `${t.key} via ${inst.id}`);
  return `${inst.id} ${inst.gateway}: login ${secs(r.ms)}, serial attached ${m.attach} ms, boot menu ${m.menu} ms after ESC`;
}

async function consoleFailover(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[0];
  const vpn2udp = lab.plan.instances.find((i) => i.id === "vpn2-udp")!;
  const out: string[] = [];
  // Where the failover check leaves the client; run alone, this check makes the failover itself (and ends on vpn1 again).
  const afterFailover = onInstance(lab, t)?.id === "vpn2-udp";
  if (!afterFailover) {
    const p = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
    const n = connectCount(p.log);
    const t0 = Date.now();
    await killServer(lab, "vpn1");
    try {
      await waitForConnection(p, n + 1, 40_000);
    } finally {
      await startServer(lab, "vpn1");
    }
    out.push(`vpn1 killed, ${t.key} on vpn2 after ${secs(Date.now() - t0)}`);
  }
  if (onInstance(lab, t)?.id !== "vpn2-udp") fail(`${t.key} is not on vpn2-udp after the failover (${pushedAddress(lab.clients.get(t.key)?.log ?? "") || "no tunnel"})`);
  out.push(await consoleOn(lab, t, vpn2udp));
  // The tcp-fallback situation: UDP dropped at the wan, the tunnel on vpn1's TCP/443 (where tcp-fallback proves the
  // whole bundle lands, ≈ 10 s later; a bundle of that instance alone gets there without the UDP attempts' wait).
  const vpn1tcp = lab.plan.instances.find((i) => i.id === "vpn1-tcp")!;
  const drop = ["-p", "udp", "--dport", String(lab.plan.servers[0].ports.udp), "-j", "DROP"];
  await stopClient(lab, t);
  await must(["iptables", "-I", "FORWARD", ...drop], { ns: lab.ns.wan });
  try {
    const t0 = Date.now();
    await startClient(lab, t, 20_000, [], vpn1tcp);
    if (onInstance(lab, t)?.id !== vpn1tcp.id) fail(`with UDP dropped ${t.key}'s client is on ${onInstance(lab, t)?.id ?? "no instance"}, not ${vpn1tcp.id}`);
    out.push(`UDP dropped, on ${vpn1tcp.id} after ${secs(Date.now() - t0)}: ${await consoleOn(lab, t, vpn1tcp)}`);
  } finally {
    await must(["iptables", "-D", "FORWARD", ...drop], { ns: lab.ns.wan });
    await stopClient(lab, t);
    // Back where the failover check left it (vpn2-udp; a bundle of that instance alone, else it would take vpn1), or on its whole bundle.
    await startClient(lab, t, 20_000, [], afterFailover ? vpn2udp : undefined);
  }
  if (afterFailover && onInstance(lab, t)?.id !== "vpn2-udp") fail(`${t.key} did not get back on vpn2-udp`);
  return out.join("; ");
}

export const CONSOLE_CHECKS = {
  text: {
    id: "console-text",
    modeIndependent: MODE_FREE,
    title: "text console through the tenant's tunnel: login, SeaBIOS on /ws/serial, ESC opens its boot menu; no console without the password, none of another tenant's",
    run: consoleText,
  },
  browser: {
    id: "console-browser",
    modeIndependent: MODE_FREE,
    title: "headless Chromium in the client namespace, trusting only the bundle's CA: wrong password refused, login, screenshots of the screen and the text console",
    run: consoleBrowser,
  },
  rotate: {
    id: "console-rotate",
    modeIndependent: MODE_FREE,
    title: "password rotated on the running QEMU as the program does: the old one fails, the new one works (VNC, login, serial); the other tenant untouched",
    run: consoleRotate,
  },
  failover: {
    id: "console-failover",
    modeIndependent: MODE_FREE,
    title: "after the failover: login and text console through vpn2's gateway, and over TCP/443 with UDP dropped",
    run: consoleFailover,
  },
} as const;
