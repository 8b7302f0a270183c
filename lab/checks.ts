/**
 * The lab's checks. Each acts on a running Lab, throws with a precise message when the data plane does
 * not behave, and returns a one-line detail. They run in this order (later ones change state and
 * restore it); `npm run lab` prints them as a table and test/e2e/lab.test.ts runs each as a test.
 */
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { HOST_FIREWALL_UNIT } from "../render/host-console";
import { certFingerprint } from "../render/pki-profile";
import { sysctlDropin } from "../render/server-setup";
import type { ServerName, TenantPlan } from "../plan/types";
import type { LabMode } from "./stack";
import { LAN_CHECKS } from "./check-lan";
import { clientDns, noClearTraffic, watchClearTraffic } from "./check-client";
import { connectCount, pushedAddress, startClient, stopClient, waitForConnection } from "./clients";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { HARDENING_CHECKS } from "./check-hardening";
import { enrolOnceCheck } from "./check-enrol";
import { tlsCryptV2Check } from "./check-tlscrypt";
import { outsiderAttempt, type Attempt } from "./outsider";
import type { Issued } from "./pki";
import { RA_ADDR, pings6, sendRa, setV6Conf, tcpOpens6, v6Conf, v6State, waitV6Addr } from "./ipv6";
import { pings, tcpFetch, tcpOpens } from "./probe";
import { readLog, type Proc } from "./procs";
import { rfbInNamespace } from "./rfb";
import { applyTenant, deleteTenant, instanceLog, killServer, liveSessions, runDataplane, simulateReboot, startServer } from "./servers";
import { diffState, snapshot, tenantTraces } from "./state";
import { CLIENT_PORT, MARKER_IP, MARKER_PORT, outsiderMgmtIp } from "./topology";
import { fail, reachesOwnMarker } from "./check-kit";
import { nodeView, tenantNodeIp } from "./hosts";
import { BAN_CHECKS } from "./check-bans";
import { banLoadCheck } from "./check-ban-load";
import { banMemberRestartCheck } from "./check-ban-member";
import { CONSOLE_CHECKS } from "./check-consoles";
import { MONITORING_CHECKS } from "./check-monitoring";

export interface Check {
  readonly id: string;
  readonly title: string;
  /** Only in this tenant-network mode, and why (elsewhere the result table shows the check as n/a with the reason). */
  readonly only?: { readonly mode: LabMode; readonly why: string };
  /**
   * Why the tenant network (the mode) plays no part in what the check proves. test/e2e/lab.test.ts then runs it in
   * the fixed-mode lab only (CI runs both labs); `npm run lab` runs it in either mode.
   */
  readonly modeIndependent?: string;
  run(lab: Lab): Promise<string>;
}

/** Why `c` does not apply to this lab's mode, or undefined when it runs. */
export function notApplicable(c: Check, lab: Lab): string | undefined {
  return c.only && c.only.mode !== lab.plan.tenantNetwork.mode ? `${lab.plan.tenantNetwork.mode} mode: ${c.only.why}` : undefined;
}

const AUTH_PATH = "OpenVPN's authentication path (certificates, tls-crypt-v2 keys, hardware IDs, the hooks): no tenant address in it";
const CLIENT_SIDE = "the client machine and its transport: the tenant network behind the server plays no part";

const FIXED_DHCP = { mode: "fixed", why: "the routers' public addresses come from cloud-init, no DHCP server runs" } as const;
const FIXED_LAN = { mode: "fixed", why: "every tenant has its own LAN, the isolation check covers it" } as const;

/**
 * Whether `server` reaches tenant `t`'s router on its link. distinct mode: a ping (the LAN is in its main table).
 * fixed mode: the LAN lives only in the tenant's table (the same address behind every link), so the server asks on
 * the link itself: an ARP request out of it for the router's address.
 */
async function serverReachesRouter(lab: Lab, server: ServerName, t: TenantPlan): Promise<boolean> {
  const ns = lab.ns[server];
  if (lab.plan.tenantNetwork.mode === "distinct") return pings(ns, t.routerIp);
  const r = await run(["busybox", "arping", "-q", "-c", "1", "-w", "1", "-I", t.link, t.routerIp], { ns, timeoutMs: 4000 });
  return r.code === 0;
}




const others = (lab: Lab, t: TenantPlan) => lab.plan.tenants.filter((o) => o.key !== t.key);

/** The first tenant, its running client and how often that client has connected so far. */
function firstSession(lab: Lab): { t: TenantPlan; client: Proc; connects: number } {
  const t = lab.plan.tenants[0];
  const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
  return { t, client, connects: connectCount(client.log) };
}

/** An outsider's connection that the servers must refuse with AUTH_FAILED; `what` names it if it gets a tunnel. */
async function refusedAttempt(lab: Lab, name: string, t: TenantPlan, cert: Issued, hwid: string, what: string): Promise<Attempt> {
  const a = await outsiderAttempt(lab, name, t, cert, hwid);
  if (a.connected) fail(`${what} got a tunnel`);
  if (!a.authFailed) fail(`expected AUTH_FAILED, client log:\n${readLog(a.log).slice(-800)}`);
  return a;
}

/** What `lr-auth` logs when a certificate for `cn` is not the one pinned for it. */
const notCurrent = (cn: string, fp: string) => `lr-auth: cn=${cn} REJECT: certificate sha256 ${fp} is not the tenant's current one`;

/** The probe port (discard): nothing listens, the destination namespace only counts what arrives. */
const PROBE_PORT = 9;

/**
 * How many of 3 UDP datagrams sent from `fromNs` to `dst`, routed through `via` (a VPN server's address), reach
 * `toNs` (on `inIface` only, when given): a raw-table counter there sees them before any filter. The route and the
 * counter are removed after.
 */
async function forwardedThrough(fromNs: string, via: string, toNs: string, dst: string, inIface?: string): Promise<number> {
  const tag = [...(inIface ? ["-i", inIface] : []), "-p", "udp", "-d", `${dst}/32`, "--dport", String(PROBE_PORT), "-m", "comment", "--comment", "lr-lab-probe", "-j", "ACCEPT"];
  await must(["ip", "route", "add", `${dst}/32`, "via", via], { ns: fromNs });
  await must(["iptables", "-t", "raw", "-I", "PREROUTING", "1", ...tag], { ns: toNs });
  try {
    for (let i = 0; i < 3; i++) await run(["socat", "-u", "-", `UDP:${dst}:${PROBE_PORT}`], { ns: fromNs, input: "probe\n" });
    await sleep(300);
    const listing = await must(["iptables", "-t", "raw", "-L", "PREROUTING", "1", "-v", "-x", "-n"], { ns: toNs });
    return Number(/^\s*(\d+)/.exec(listing)?.[1] ?? fail(`no probe counter in ${toNs}: ${listing}`));
  } finally {
    await must(["iptables", "-t", "raw", "-D", "PREROUTING", ...tag], { ns: toNs });
    await must(["ip", "route", "del", `${dst}/32`, "via", via], { ns: fromNs });
  }
}

/** The two cross-network probes through `server`: internet → management network, management network → internet. */
async function crossProbes(lab: Lab, server: ServerName): Promise<{ publicToMgmt: number; mgmtToPublic: number }> {
  const s = lab.plan.servers.find((x) => x.name === server)!;
  return {
    // On the management bridge only: the datagrams to vpn1 cross the host's public bridge first, and with
    // br_netfilter (as on a Proxmox host) its raw table sees bridged frames too.
    publicToMgmt: await forwardedThrough(lab.ns.wan, s.publicIp, lab.ns.host, lab.plan.host.mgmtIp, lab.plan.bridges.management),
    mgmtToPublic: await forwardedThrough(lab.ns.x, s.mgmtIp, lab.ns.wan, MARKER_IP),
  };
}

export const CHECKS: readonly Check[] = [
  {
    id: "udp-fixed-ip",
    title: "tunnel over UDP with the tenant's fixed IP",
    async run(lab) {
      const out: string[] = [];
      for (const t of lab.plan.tenants) {
        const log = lab.clients.get(t.key)?.log ?? fail(`${t.key}: client not running`);
        const ip = pushedAddress(log);
        if (ip !== t.tunnelIps["vpn1-udp"]) fail(`${t.key}: tunnel IP ${ip || "(none)"}, plan says ${t.tunnelIps["vpn1-udp"]} (vpn1-udp)`);
        if (!/UDPv4 link remote: \[AF_INET\]/.test(readLog(log))) fail(`${t.key}: not connected over UDP`);
        await reachesOwnMarker(lab, t);
        out.push(`${t.key}=${ip}`);
      }
      return out.join(" ");
    },
  },
  { ...LAN_CHECKS.dhcpLeases, only: FIXED_DHCP },
  { ...LAN_CHECKS.dhcpUnknownMac, only: FIXED_DHCP },
  { ...LAN_CHECKS.dhcpRestart, only: FIXED_DHCP },
  {
    id: "isolation",
    title: "tenant traffic reaches only its own router",
    async run(lab) {
      // Negative probes wait for their timeout, so they run in parallel.
      const probes: Promise<void>[] = [];
      // fixed mode: every router has the same address, so "another tenant's LAN" is no address of its own (lan-isolation).
      const distinct = lab.plan.tenantNetwork.mode === "distinct";
      for (const t of lab.plan.tenants) {
        await reachesOwnMarker(lab, t);
        for (const o of others(lab, t)) {
          if (distinct) {
            // Control: the target answers when asked from where it should (else the negative proves nothing).
            const ctl = await tcpFetch(lab.ns.vpn1, o.routerIp, MARKER_PORT);
            if (ctl.text !== o.key) fail(`control: vpn1 cannot reach ${o.key}'s router ${o.routerIp}:${MARKER_PORT} (${ctl.detail})`);
            probes.push(
              tcpFetch(lab.ns.c[t.key], o.routerIp, MARKER_PORT, 1500).then((r) => {
                if (r.ok) fail(`${t.key} reached ${o.key}'s network: ${o.routerIp}:${MARKER_PORT} answered ${r.detail}`);
              }),
            );
          }
          for (const id of ["vpn1-udp", "vpn1-tcp", "vpn2-udp", "vpn2-tcp"] as const) {
            probes.push(
              tcpFetch(lab.ns.c[t.key], o.tunnelIps[id], CLIENT_PORT, 1500).then((x) => {
                if (x.ok) fail(`${t.key} reached ${o.key}'s tunnel IP ${o.tunnelIps[id]} (${x.detail})`);
              }),
            );
          }
        }
      }
      await Promise.all(probes);
      const lan = distinct ? "" : ` (tunnel IPs only: the shared LAN address ${lab.plan.tenants[0].routerIp} is lan-isolation's)`;
      return `${lab.plan.tenants.length} markers answer their own tenant; ${probes.length} cross-tenant probes refused${lan}`;
    },
  },
  HARDENING_CHECKS.noEnumeration,
  {
    id: "console-own",
    title: "console at gateway:5900 reaches own QEMU; password required; type None never offered",
    async run(lab) {
      const out: string[] = [];
      for (const t of lab.plan.tenants) {
        const gw = lab.plan.instances.find((i) => i.id === "vpn1-udp")!.gateway;
        const pw = lab.vncPasswords.get(t.key) ?? fail(`${t.key}: no VNC password`);
        const ok = await rfbInNamespace(lab.ns.c[t.key], gw, 5900, pw);
        if (ok.result !== "OK") fail(`${t.key}: RFB with its password gave ${ok.result} ${ok.reason ?? ""}`);
        if (!ok.serverInit?.name.includes(t.vmName)) fail(`${t.key}: console is "${ok.serverInit?.name}", not ${t.vmName}'s`);
        if (ok.securityTypes.includes(1)) fail(`${t.key}: console offers security type None: ${JSON.stringify(ok.securityTypes)}`);
        const bad = await rfbInNamespace(lab.ns.c[t.key], gw, 5900, pw === "wrongpw1" ? "wrongpw2" : "wrongpw1");
        if (bad.result !== "FAILED") fail(`${t.key}: RFB with a wrong password gave ${bad.result}, expected FAILED`);
        out.push(`${t.key}: ${JSON.stringify(ok.securityTypes)} OK "${ok.serverInit.name}", wrong pw FAILED`);
      }
      return out.join("; ");
    },
  },
  {
    id: "console-others",
    title: "other tenants' and the host's console ports unreachable from the tunnel",
    async run(lab) {
      const host = lab.plan.host.mgmtIp;
      const probes: Promise<void>[] = [];
      // Each console is on its tenant's node (the host in the one-host lab).
      const consoleAt = (t: TenantPlan) => tenantNodeIp(lab.plan, t);
      const refused = (ns: string, ip: string, port: number, who: string) =>
        probes.push(
          tcpOpens(ns, ip, port, 1500).then((open) => {
            if (open) fail(`${who} opened ${ip}:${port}`);
          }),
        );
      for (const t of lab.plan.tenants) {
        if (!(await tcpOpens(lab.ns.vpn1, consoleAt(t), t.vnc.port))) fail(`control: vpn1 cannot open the host console port ${consoleAt(t)}:${t.vnc.port}`);
        for (const o of lab.plan.tenants) {
          refused(lab.ns.c[t.key], consoleAt(o), o.vnc.port, `${t.key} (directly)`);
          if (consoleAt(o) !== host) refused(lab.ns.c[t.key], host, o.vnc.port, `${t.key} (directly)`);
          for (const inst of lab.plan.instances.filter((i) => i.server === "vpn1")) refused(lab.ns.c[t.key], inst.gateway, o.vnc.port, t.key);
        }
        refused(lab.ns.x, consoleAt(t), t.vnc.port, `the management outsider (${outsiderMgmtIp(lab.plan)})`);
      }
      await Promise.all(probes);
      return `${probes.length} direct console probes refused (vpn1 itself reaches every console)`;
    },
  },
  CONSOLE_CHECKS.text,
  CONSOLE_CHECKS.browser,
  CONSOLE_CHECKS.rotate,
  {
    id: "ipv6-closed",
    title: "no IPv6 path into the VPN servers: a tenant router's RA is not taken, no link-local address answers",
    async run(lab) {
      const t = lab.plan.tenants[0];
      const lr = lab.ns.lr[t.key];
      const out: string[] = [];
      for (const s of lab.plan.servers) {
        const ns = lab.ns[s.name];
        const tcpPort = s.instances.find((i) => i.proto === "tcp")!.port;
        // An sshd stand-in on every address, as sshd listens on [::]:22.
        const sshd = await lab.procs.start(`sshd6-${s.name}`, ns, ["socat", "-d", "-d", "TCP6-LISTEN:22,reuseaddr,fork", "EXEC:/bin/echo sshd"], lab.logFile(`sshd6-${s.name}`), { ready: /listening on/ });
        try {
          // Control: the tenant link as the kernel makes it (IPv6 on, RAs taken): the RA adds an address and a
          // route, and the link-local address answers ping and TCP (else the negatives below prove nothing).
          await setV6Conf(ns, t.link, { accept_dad: 0, accept_ra: 1, autoconf: 1, disable_ipv6: 0 });
          const ll = (await waitV6Addr(ns, t.link, /^fe80:/)) ?? fail(`control: ${s.name} ${t.link} got no link-local address with IPv6 on`);
          await sendRa(lr, "br0");
          if (!(await waitV6Addr(ns, t.link, RA_ADDR))) {
            const [mine, theirs] = await Promise.all([v6State(lr, "br0"), v6State(ns, t.link)]);
            fail(`control: ${s.name} ${t.link} took no address from the RA with IPv6 on (router br0: ${mine.addrs.join(" | ") || "no IPv6"}; ${t.link}: ${theirs.addrs.join(" | ")})`);
          }
          if (!(await pings6(lr, ll, "br0"))) fail(`control: ${s.name}'s ${ll}%${t.link} does not answer ping with IPv6 on`);
          if (!(await tcpOpens6(lr, ll, "br0", 22))) fail(`control: ${s.name}'s [${ll}%${t.link}]:22 does not open with IPv6 on`);
          // What every tenant apply (and the boot's apply-all) does to the link.
          await runDataplane(lab, s.name, "apply", t.key);
          const link = await v6Conf(ns, t.link);
          if (link.disable_ipv6 !== "1" || link.accept_ra !== "0" || link.autoconf !== "0") fail(`${s.name} ${t.link} after apply: ${JSON.stringify(link)}, expected disable_ipv6 1, accept_ra 0, autoconf 0`);
          for (const dev of ["all", "default"]) {
            const c = await v6Conf(ns, dev);
            if (c.accept_ra !== "0" || c.autoconf !== "0") fail(`${s.name} net.ipv6.conf.${dev}: ${JSON.stringify(c)}, expected accept_ra 0, autoconf 0`);
          }
          if ((await v6Conf(ns, "default")).disable_ipv6 !== "1") fail(`${s.name}: net.ipv6.conf.default.disable_ipv6 is not 1 (new tenant links would get IPv6)`);
          await sendRa(lr, "br0");
          await sleep(500);
          const st = await v6State(ns, t.link);
          if (st.addrs.length || st.routes.length) fail(`${s.name} ${t.link} has IPv6 after apply and a second RA:\n${[...st.addrs, ...st.routes].join("\n")}`);
          // Negative probes wait for their timeout, so they run in parallel.
          const [pinged, ...opened] = await Promise.all([pings6(lr, ll, "br0"), ...[22, tcpPort].map((port) => tcpOpens6(lr, ll, "br0", port))]);
          if (pinged) fail(`${s.name}'s ${ll}%${t.link} still answers ping`);
          [22, tcpPort].forEach((port, i) => {
            if (opened[i]) fail(`${s.name}'s [${ll}%${t.link}]:${port} still opens`);
          });
          // The tunnels: OpenVPN's tun devices have no IPv6 either.
          for (const i of s.instances) {
            const c = await v6Conf(ns, i.dev);
            const tun = await v6State(ns, i.dev);
            if (c.disable_ipv6 !== "1" || tun.addrs.length) fail(`${s.name} ${i.dev}: disable_ipv6 ${c.disable_ipv6}, addresses ${JSON.stringify(tun.addrs)}; expected 1 and none`);
          }
          out.push(`${s.name}: RA not taken, ${ll} silent (ping, :22, :${tcpPort}), tuns without IPv6`);
        } finally {
          await lab.procs.stop(sshd, 1000);
        }
      }
      return `${out.join("; ")} (control: with IPv6 on the RA adds an address and ping/:22 answer)`;
    },
  },
  { ...HARDENING_CHECKS.publicClosed, modeIndependent: "the VPN servers' public side: no tenant address in it" },
  // The monitoring while every client is still on vpn1-udp, late enough that OpenVPN's status files (rewritten every
  // 10 s) show them; the alert check kills and restarts vpn1-tcp, which no client uses.
  MONITORING_CHECKS.status,
  MONITORING_CHECKS.closed,
  MONITORING_CHECKS.instanceDown,
  {
    id: "unknown-cert",
    modeIndependent: AUTH_PATH,
    title: "certificate from the right CA without a ccd file is refused",
    async run(lab) {
      const t = lab.plan.tenants[0];
      const a = await refusedAttempt(lab, "intruder", t, await lab.pki.issueClient("intruder"), lab.hardwareId, "a certificate without a ccd file");
      // Either the auth hook (no ccd file: not a tenant) or ccd-exclusive refuses it; the server must say which.
      const srv = readLog(instanceLog(lab, "vpn1-udp"));
      const by = /lr-auth: cn=intruder REJECT: ([^\n]*)/.exec(srv)?.[1] ?? (/client-config-dir authentication failed for common name 'intruder'/.test(srv) ? "ccd-exclusive" : "");
      if (!by) fail("vpn1-udp logged no refusal for 'intruder'");
      return `AUTH_FAILED after ${secs(a.ms)} (${by})`;
    },
  },
  {
    id: "tls-crypt-v2",
    modeIndependent: AUTH_PATH,
    title: "tls-crypt-v2: a foreign server key is dropped, a removed tenant's and a re-issued old key are refused before TLS; the new key connects",
    run: tlsCryptV2Check,
  },
  {
    id: "wrong-hwid",
    modeIndependent: AUTH_PATH,
    title: "wrong hardware ID refused; the real session with the same certificate stays up",
    async run(lab) {
      const { t, client: real, connects: before } = firstSession(lab);
      const wrong = createHash("sha256").update("another machine").digest("hex");
      const cert = lab.clientCerts.get(t.key) ?? fail(`${t.key}: no client certificate`);
      const a = await refusedAttempt(lab, "stolen", t, cert, wrong, "the stolen bundle with a wrong hardware ID");
      const srv = readLog(instanceLog(lab, "vpn1-udp"));
      if (!new RegExp(`lr-auth: cn=${t.key} REJECT`).test(srv)) fail(`vpn1-udp did not log the hook's REJECT for ${t.key}`);
      if (/will cause previous active sessions by this client to be dropped/.test(srv)) fail("the server dropped the real session for the stolen one");
      await sleep(300);
      if (connectCount(real.log) !== before || !/Initialization Sequence Completed/.test(readLog(real.log))) fail(`${t.key}'s real session reconnected`);
      await reachesOwnMarker(lab, t);
      return `AUTH_FAILED after ${secs(a.ms)}; real session untouched`;
    },
  },
  { ...enrolOnceCheck, modeIndependent: AUTH_PATH },
  { ...HARDENING_CHECKS.reconnectStorm, modeIndependent: AUTH_PATH },
  {
    id: "cert-reissue",
    modeIndependent: AUTH_PATH,
    title: "re-issued certificate: the old one is refused on vpn1 and vpn2, the new one accepted; other tenants untouched",
    async run(lab) {
      const t = lab.plan.tenants[0];
      // Control: the old certificate's session is up and carries traffic before the re-issue.
      await reachesOwnMarker(lab, t);
      const old = lab.clientCerts.get(t.key) ?? fail(`${t.key}: no client certificate`);
      const rest = others(lab, t).map((o) => {
        const p = lab.clients.get(o.key) ?? fail(`${o.key}: client not running`);
        return { o, p, n: connectCount(p.log) };
      });
      const fresh = await lab.pki.issueClient(t.key);
      const [oldFp, newFp] = [certFingerprint(old.certPem), certFingerprint(fresh.certPem)];
      if (oldFp === newFp) fail("control: the re-issued certificate has the old fingerprint");
      // What `pulumi up` does after a re-issue: the tenant's apply script on each server, now with the new certificate.
      lab.clientCerts.set(t.key, fresh);
      const t0 = Date.now();
      for (const s of lab.plan.servers) await applyTenant(lab, s.name, t);
      const applyMs = Date.now() - t0;
      // The running client still holds the old certificate: the apply scripts ended its session on every instance,
      // so its tunnel carries nothing from now on (the client itself notices at its ping-restart).
      const live = (await Promise.all(lab.plan.instances.map(async (i) => ((await liveSessions(lab, i.server, i.proto)).includes(t.key) ? [i.id] : [])))).flat();
      if (live.length) fail(`${t.key}'s session with the old certificate survived the re-issue on ${live.join(", ")}`);
      const through = await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT, 1500);
      if (through.ok) fail(`the old certificate's tunnel still reaches ${MARKER_IP}:${MARKER_PORT} (${through.detail})`);
      await stopClient(lab, t);
      for (const s of lab.plan.servers) {
        const a = await outsiderAttempt(lab, `old-cert-${s.name}`, t, old, lab.hardwareId, 15_000, s.name);
        if (a.connected || !a.authFailed) fail(`the old certificate on ${s.name}: ${a.connected ? "got a tunnel" : `no AUTH_FAILED:\n${readLog(a.log).slice(-600)}`}`);
        if (!readLog(instanceLog(lab, `${s.name}-udp`)).includes(notCurrent(t.key, oldFp))) fail(`${s.name}-udp did not log: ${notCurrent(t.key, oldFp)}`);
      }
      // The new certificate: accepted on vpn2 (a bundle naming vpn2 alone), then the tenant's own client on vpn1.
      const onVpn2 = await outsiderAttempt(lab, "new-cert-vpn2", t, fresh, lab.hardwareId, 15_000, "vpn2");
      if (!onVpn2.connected) fail(`the new certificate was not accepted on vpn2:\n${readLog(onVpn2.log).slice(-600)}`);
      const p = await startClient(lab, t);
      const ip = pushedAddress(p.log);
      if (ip !== t.tunnelIps["vpn1-udp"]) fail(`with the new certificate ${t.key} got ${ip || "(none)"}, plan says ${t.tunnelIps["vpn1-udp"]}`);
      await reachesOwnMarker(lab, t);
      for (const { o, p: op, n } of rest) {
        if (connectCount(op.log) !== n) fail(`${o.key}'s session reconnected during ${t.key}'s re-issue`);
        await reachesOwnMarker(lab, o);
      }
      return `apply on both servers ${secs(applyMs)}, old session gone from every instance; old cert AUTH_FAILED on vpn1 and vpn2; new cert on vpn2 and vpn1-udp ${ip}; ${rest.length} other tenant(s) untouched`;
    },
  },
  {
    id: "tcp-fallback",
    modeIndependent: CLIENT_SIDE,
    title: "UDP dropped at the wan: the same bundle falls back to TCP/443 with the fixed TCP IP",
    async run(lab) {
      const t = lab.plan.tenants[0];
      const drop = ["-p", "udp", "--dport", String(lab.plan.servers[0].ports.udp), "-j", "DROP"];
      await stopClient(lab, t);
      await must(["iptables", "-I", "FORWARD", ...drop], { ns: lab.ns.wan });
      try {
        const t0 = Date.now();
        const p = await startClient(lab, t, 40_000);
        const ms = Date.now() - t0;
        const ip = pushedAddress(p.log);
        if (ip !== t.tunnelIps["vpn1-tcp"]) fail(`over TCP ${t.key} got ${ip || "(none)"}, plan says ${t.tunnelIps["vpn1-tcp"]} (vpn1-tcp)`);
        await reachesOwnMarker(lab, t);
        const gw = lab.plan.instances.find((i) => i.id === "vpn1-tcp")!.gateway;
        const rfb = await rfbInNamespace(lab.ns.c[t.key], gw, 5900, lab.vncPasswords.get(t.key));
        if (rfb.result !== "OK") fail(`console over TCP at ${gw}:5900 gave ${rfb.result}`);
        return `${t.key} on vpn1-tcp ${ip} after ${secs(ms)}; marker and console OK`;
      } finally {
        await must(["iptables", "-D", "FORWARD", ...drop], { ns: lab.ns.wan });
        await stopClient(lab, t);
        await startClient(lab, t);
      }
    },
  },
  {
    id: "failover",
    title: "vpn1 killed (SIGKILL): the client is back through vpn2 within 30 s",
    async run(lab) {
      const { t, client: p, connects: n } = firstSession(lab);
      // Counted at the wan for the whole outage: the new pool's address makes OpenVPN reopen the tun.
      const watch = await watchClearTraffic(lab, t);
      const t0 = Date.now();
      await killServer(lab, "vpn1");
      try {
        await waitForConnection(p, n + 1, 30_000).catch((e: Error) => fail(`no reconnect within 30 s: ${e.message.split("\n")[0]}`));
        const ip = pushedAddress(p.log);
        if (ip !== t.tunnelIps["vpn2-udp"]) fail(`after failover ${t.key} has ${ip}, plan says ${t.tunnelIps["vpn2-udp"]} (vpn2-udp)`);
        await reachesOwnMarker(lab, t);
        const ms = Date.now() - t0;
        lab.timings.push(["failover", ms]);
        await sleep(1000); // a second of the stream through the new tunnel: proof the generator was heard
        const w = await watch.stop();
        if (w.clear) fail(`${w.clear} packet(s) left ${t.key}'s client in clear during the failover (to anything but the VPN servers)`);
        if (!w.answered) fail(`none of ${w.sent} pings to ${MARKER_IP} was answered, not even after the reconnect`);
        return `${t.key} back on vpn2-udp ${ip} after ${secs(ms)} (marker reached); 0 of ${w.sent} pings in clear, ${w.answered} answered`;
      } finally {
        await watch.stop().catch(() => undefined);
        await startServer(lab, "vpn1");
      }
    },
  },
  // Right after the failover (the clients on vpn2-udp); the console one puts its client back there for lan-isolation.
  MONITORING_CHECKS.failover,
  CONSOLE_CHECKS.failover,
  { ...LAN_CHECKS.lanIsolation, only: FIXED_LAN },
  {
    id: "no-clear-traffic",
    modeIndependent: CLIENT_SIDE,
    title: "client restart (SIGUSR1): nothing leaves in clear with persist-tun and the kill-switch; the control without them leaks",
    run: noClearTraffic,
  },
  {
    id: "client-dns",
    title: "the tenant's name resolves through the tunnel at its router; resolv.conf restored byte for byte after exit",
    run: clientDns,
  },
  {
    id: "reboot-reapply",
    title: "vpn1 and host rules flushed (reboot): lr-dataplane apply-all and the host's boot unit restore them exactly",
    async run(lab) {
      const before = await snapshot(lab.ns.vpn1);
      await simulateReboot(lab, "vpn1");
      const flushed = await snapshot(lab.ns.vpn1);
      if (!diffState(before, flushed).length) fail("the simulated reboot changed nothing");
      const t0 = Date.now();
      await runDataplane(lab, "vpn1", "apply-all");
      const ms = Date.now() - t0;
      const diff = diffState(before, await snapshot(lab.ns.vpn1));
      if (diff.length) fail(`state after apply-all differs:\n${diff.slice(0, 20).join("\n")}`);
      for (const t of lab.plan.tenants) if (!(await serverReachesRouter(lab, "vpn1", t))) fail(`vpn1 cannot reach ${t.key}'s router ${t.routerIp} on ${t.link} after apply-all`);
      // Each node's host (one node: the host): every rule gone, then what its boot unit runs (ExecStart, read from the
      // installed unit). Probed on a console port that listens there: one of its own tenants'.
      for (const n of lab.plan.nodes) {
        const host = lab.ns.nodes[n.name] ?? lab.ns.host;
        const ip = nodeView(lab.plan, n.name).host.mgmtIp;
        const port = (lab.plan.tenants.find((t) => t.node === n.name) ?? fail(`control: no tenant on node ${n.name}`)).vnc.port;
        const hostBefore = await snapshot(host);
        for (const t of ["iptables", "ip6tables"]) for (const op of ["-F", "-X"]) await must([t, op], { ns: host });
        if (!(await tcpOpens(lab.ns.x, ip, port))) fail(`control: with ${n.name}'s rules flushed the outsider should reach the console port ${ip}:${port}`);
        const unit = readFileSync(`${lab.hostLayoutOf(n.name).systemdDir}/${HOST_FIREWALL_UNIT}`, "utf8");
        const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? fail(`no ExecStart in ${n.name}'s ${HOST_FIREWALL_UNIT}`);
        await must(exec.split(" "), { ns: host });
        const hostDiff = diffState(hostBefore, await snapshot(host));
        if (hostDiff.length) fail(`${n.name}'s state after its boot unit differs:\n${hostDiff.slice(0, 20).join("\n")}`);
        if (await tcpOpens(lab.ns.x, ip, port, 1500)) fail(`the outsider reaches ${n.name}'s console port ${ip}:${port} after its boot unit`);
        if (!(await tcpOpens(lab.ns.vpn1, ip, port))) fail(`vpn1 lost ${n.name}'s console port ${ip}:${port} after its boot unit`);
      }
      // …and its owner still has it: through whichever instance his client is on now (vpn2 after the failover check).
      for (const t of lab.plan.tenants) {
        const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
        const ip = pushedAddress(client.log);
        const inst = lab.plan.instances.find((i) => t.tunnelIps[i.id] === ip) ?? fail(`${t.key}: tunnel address ${ip} is no instance's`);
        const pw = lab.vncPasswords.get(t.key) ?? fail(`${t.key}: no VNC password`);
        const rfb = await rfbInNamespace(lab.ns.c[t.key], inst.gateway, 5900, pw);
        if (rfb.result !== "OK") fail(`${t.key}: own console via ${inst.id} after the host's boot unit gave ${rfb.result}`);
      }
      return `apply-all ${secs(ms)}; rules, routes, iptables${lab.plan.tenantNetwork.mode === "fixed" ? " and the nft LAN table" : ""} identical, every router reachable on its link; ${lab.plan.nodes.length > 1 ? `each node's (${lab.plan.nodes.map((n) => n.name).join(", ")})` : "host"} boot unit: console closed again except to the VPN servers, each owner reaches his own`;
    },
  },
  {
    id: "fail-closed",
    title: "vpn1 boots and apply-all dies half-way (damaged env file): nothing is forwarded between its networks",
    async run(lab) {
      const ns = lab.ns.vpn1;
      const before = await snapshot(ns);
      const open = await crossProbes(lab, "vpn1");
      if (open.publicToMgmt || open.mgmtToPublic) fail(`control: with its firewall loaded vpn1 forwards ${JSON.stringify(open)}`);
      // The boot: every rule and sysctl gone, then what systemd-sysctl applies from the rendered drop-in.
      await simulateReboot(lab, "vpn1");
      const dropin = lab.path("vpn1", "scripts", "90-librerouter.conf");
      writeFileSync(dropin, sysctlDropin(lab.plan.tenantNetwork.mode).content);
      await must(["sysctl", "-q", "-p", dropin], { ns });
      const broken = `${lab.layouts.vpn1.confDir}/tenants/broken.env`;
      writeFileSync(broken, "LR_KEY=broken\nnot an env line\n");
      try {
        const r = await run([`${lab.layouts.vpn1.confDir}/lr-dataplane`, "apply-all"], { ns });
        const want = `lr-dataplane: ${broken}: unknown field 'not an env line'`;
        if (r.code === 0 || r.stderr.trim() !== want) fail(`apply-all with a damaged env file: exit ${r.code}, stderr ${JSON.stringify(r.stderr.trim())}, expected ${JSON.stringify(want)}`);
        const fwd = (await must(["sysctl", "-n", "net.ipv4.ip_forward"], { ns })).trim();
        const policy = /^:FORWARD (\S+)/m.exec(await must(["iptables-save", "-t", "filter"], { ns }))?.[1];
        if (fwd !== "0" || policy !== "DROP") fail(`after the failed apply-all: ip_forward=${fwd}, FORWARD policy ${policy ?? "(none)"}; expected 0 and DROP`);
        const closed = await crossProbes(lab, "vpn1");
        if (closed.publicToMgmt || closed.mgmtToPublic) fail(`after the failed apply-all vpn1 forwards: ${JSON.stringify(closed)} of 3 datagrams`);
        // Control: the order the fix replaced (forwarding on first, the firewall never loaded) lets the same probes through.
        await must(["iptables", "-P", "FORWARD", "ACCEPT"], { ns });
        await must(["sysctl", "-qw", "net.ipv4.ip_forward=1"], { ns });
        const failOpen = await crossProbes(lab, "vpn1");
        if (failOpen.publicToMgmt !== 3 || failOpen.mgmtToPublic !== 3) fail(`control: forwarding on without a firewall should pass 3 of 3 each way, got ${JSON.stringify(failOpen)}`);
      } finally {
        rmSync(broken, { force: true });
      }
      await runDataplane(lab, "vpn1", "apply-all");
      const diff = diffState(before, await snapshot(ns));
      if (diff.length) fail(`state after the repaired apply-all differs:\n${diff.slice(0, 20).join("\n")}`);
      const again = await crossProbes(lab, "vpn1");
      if (again.publicToMgmt || again.mgmtToPublic) fail(`after the repaired apply-all vpn1 forwards ${JSON.stringify(again)}`);
      for (const t of lab.plan.tenants) await reachesOwnMarker(lab, t);
      return `failed apply-all: ip_forward 0, FORWARD DROP, 0/6 datagrams internet↔management (6/6 with forwarding on and no firewall); repaired apply-all identical, tenants reach their routers`;
    },
  },
  {
    id: "apply-twice",
    title: "tenant apply twice leaves identical rules, routes and iptables",
    async run(lab) {
      const before = await snapshot(lab.ns.vpn1);
      for (let i = 0; i < 2; i++) for (const t of lab.plan.tenants) await applyTenant(lab, "vpn1", t);
      const diff = diffState(before, await snapshot(lab.ns.vpn1));
      if (diff.length) fail(`state changed:\n${diff.slice(0, 20).join("\n")}`);
      return `${lab.plan.tenants.length} tenants applied twice; no change`;
    },
  },
  // The ban grid after every check that restarts servers or clients, but before delete-clean: that one ends a
  // tenant's session, which its client re-opens only at its ping-restart, and the ban checks watch every session.
  BAN_CHECKS.detect,
  BAN_CHECKS.probe,
  BAN_CHECKS.udpFlood,
  BAN_CHECKS.report,
  BAN_CHECKS.allowlist,
  BAN_CHECKS.expiry,
  BAN_CHECKS.lapiRestart,
  banMemberRestartCheck,
  banLoadCheck,
  {
    id: "delete-clean",
    title: "delete kills the live session and leaves nothing of the tenant; apply brings it back exactly",
    async run(lab) {
      const t = lab.plan.tenants[lab.plan.tenants.length - 1];
      const shared = lab.plan.tenantNetwork.mode === "fixed";
      const servers = lab.plan.servers.map((s) => s.name);
      const sessions = async () => (await Promise.all(lab.plan.instances.map(async (i) => ((await liveSessions(lab, i.server, i.proto)).includes(t.key) ? [i.id] : [])))).flat();
      const before = Object.fromEntries(await Promise.all(servers.map(async (n) => [n, await snapshot(lab.ns[n])] as const)));
      for (const n of servers) {
        const inst = lab.plan.instances.filter((i) => i.server === n);
        if (!tenantTraces(before[n], lab.layouts[n], t, inst, shared).length) fail(`control: no trace of ${t.key} on ${n} before delete`);
      }
      const live = await sessions();
      if (!live.length) fail(`control: ${t.key} has no live session on any instance`);
      for (const n of servers) await deleteTenant(lab, n, t);
      const still = await sessions();
      if (still.length) fail(`${t.key}'s live session survived the delete on ${still.join(", ")}`);
      for (const n of servers) {
        const inst = lab.plan.instances.filter((i) => i.server === n);
        const traces = tenantTraces(await snapshot(lab.ns[n]), lab.layouts[n], t, inst, shared);
        if (traces.length) fail(`left on ${n} after delete:\n${traces.join("\n")}`);
      }
      for (const n of servers) {
        await applyTenant(lab, n, t);
        const diff = diffState(before[n], await snapshot(lab.ns[n]));
        if (diff.length) fail(`${n} after re-apply differs:\n${diff.slice(0, 20).join("\n")}`);
      }
      return `${t.key} on both servers: session on ${live.join(", ")} killed; no rule, route, DNAT, ${shared ? "nft element, " : ""}ccd, env or pin left; re-apply identical`;
    },
  },
  // Last: it deletes a tenant on both servers and brings it back, as delete-clean does, and watches the report.
  MONITORING_CHECKS.deleted,
];
