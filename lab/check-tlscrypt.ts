/**
 * Lab check `tls-crypt-v2`: keys that must not reach TLS. A client whose key was wrapped with a foreign server key is
 * dropped by tls-crypt itself (the server cannot unwrap its WKc); a removed tenant's key (no ccd file) and a re-issued
 * tenant's old key (its key id no longer pinned) pass tls-crypt but are refused by the verify hook, which OpenVPN runs
 * once the cookie handshake is done and before it reads a TLS record: neither side logs a certificate (no VERIFY).
 * The re-issue ends the tenant's live sessions; its new key connects; the other tenants are untouched.
 */
import { writeFileSync } from "node:fs";
import type { InstancePlan, TenantPlan } from "../plan/types";
import { renderClientBundle } from "../render/client-bundle";
import { connectCount, pushedAddress, startClient } from "./clients";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { newTc2ServerKey } from "./pki";
import { readLog, waitForLog } from "./procs";
import { applyTenant, instanceLog, liveSessions } from "./servers";
import { fail, reachesOwnMarker } from "./check-kit";


/**
 * Anything of TLS in a log: a certificate checked (either side: VERIFY OK/KU/EKU/X509NAME/ERROR, not the hook's
 * "TLS CRYPT V2 VERIFY SCRIPT" line), the session's TLS line, the client's peer info, a tunnel.
 */
const TLS_STARTED = /VERIFY (?:OK|KU|EKU|X509NAME|ERROR)|Control Channel: TLS|peer info:|Initialization Sequence Completed/;


interface Refusal {
  /** ms from the client's start to the server's refusal line. */
  readonly ms: number;
  readonly server: string;
  readonly client: string;
}

/**
 * Runs openvpn in the outsider namespace with `t`'s bundle (its current certificate) around the tls-crypt-v2 key
 * `tc2Pem`, dialling `inst` only; waits for `refusal` in that instance's log, then 1 s more (a TLS start shows within
 * milliseconds here), and returns both logs from the client's start on.
 */
async function refusedBeforeTls(lab: Lab, name: string, t: TenantPlan, tc2Pem: string, inst: InstancePlan, refusal: RegExp): Promise<Refusal> {
  const cert = lab.clientCerts.get(t.key) ?? fail(`${t.key}: no client certificate`);
  const server = lab.plan.servers.find((s) => s.name === inst.server)!;
  const remote = `remote ${server.hostname} ${inst.port} ${inst.proto === "udp" ? "udp4" : "tcp4-client"}\n`;
  const text = renderClientBundle(lab.plan, t, { caPem: lab.pki.caPem, certPem: cert.certPem, keyPem: cert.keyPem, tlsCryptV2Key: tc2Pem }).replace(
    /<connection>\n([\s\S]*?)<\/connection>\n/g,
    (block, body: string) => (body.startsWith(remote) ? block : ""),
  );
  if ((text.match(/<connection>/g) ?? []).length !== 1) fail(`bundle for ${inst.id} only: expected its one connection block`);
  const bundle = lab.path("clients", name, `${t.key}.ovpn`);
  writeFileSync(bundle, text, { mode: 0o600 });
  const srvLog = instanceLog(lab, inst.id);
  const cliLog = lab.logFile(`outsider-${name}`);
  const from = readLog(srvLog).length;
  const t0 = Date.now();
  const proc = await lab.procs.start(`outsider-${name}`, lab.ns.x, ["openvpn", "--config", bundle, "--setenv", "UV_HWID", lab.hardwareId], cliLog);
  try {
    const ms = await waitForLog(srvLog, refusal, 15_000, undefined, from).catch(() => fail(`${inst.id} logged no ${refusal} for ${name}:\n${readLog(srvLog).slice(from).slice(-800)}`));
    await new Promise((r) => setTimeout(r, 1000));
    return { ms: Math.min(ms, Date.now() - t0), server: readLog(srvLog).slice(from), client: readLog(cliLog) };
  } finally {
    await lab.procs.stop(proc, 500, "SIGKILL");
  }
}

function noTls(what: string, r: Refusal): void {
  const s = TLS_STARTED.exec(r.server)?.[0];
  const c = TLS_STARTED.exec(r.client)?.[0];
  if (s || c) fail(`${what}: TLS started after the refusal (${s ? `server: "${s}"` : `client: "${c}"`})`);
}

export async function tlsCryptV2Check(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[lab.plan.tenants.length - 1];
  const inst = (id: string) => lab.plan.instances.find((i) => i.id === id)!;
  const rest = lab.plan.tenants
    .filter((o) => o.key !== t.key)
    .map((o) => {
      const p = lab.clients.get(o.key) ?? fail(`${o.key}: client not running`);
      return { o, p, n: connectCount(p.log) };
    });
  // Control: t's current key carries its session.
  await reachesOwnMarker(lab, t);
  const out: string[] = [];

  // A key wrapped with another deployment's server key: the WKc does not authenticate, the packet is dropped.
  const foreign = await refusedBeforeTls(lab, "tc2-foreign", t, lab.pki.mintTc2Key(t.key, newTc2ServerKey()).pem, inst("vpn1-udp"), /Can not unwrap tls-crypt-v2 client key/);
  if (/lr-tc2:/.test(foreign.server)) fail("a foreign server key's client reached the verify hook");
  if (/TLS: Initial packet from/.test(foreign.client)) fail("the server answered a foreign server key's client");
  noTls("foreign server key", foreign);
  out.push(`foreign server key dropped unanswered (${secs(foreign.ms)})`);

  // A removed tenant: its key is still valid for tls-crypt, but it has no ccd file.
  const former = await refusedBeforeTls(lab, "tc2-former", t, lab.pki.mintTc2Key("former").pem, inst("vpn1-udp"), /lr-tc2: cn=former REJECT: no ccd file: not a tenant/);
  noTls("removed tenant's key", former);
  out.push(`removed tenant refused by the hook (${secs(former.ms)})`);

  // Re-issue t's key (what `pulumi up --replace` of its RandomBytes applies): both servers get the new pin.
  const old = lab.pki.tc2Key(t.key);
  const fresh = lab.pki.reissueTc2Key(t.key);
  const t0 = Date.now();
  for (const s of lab.plan.servers) await applyTenant(lab, s.name, t);
  const applyMs = Date.now() - t0;
  const live = (await Promise.all(lab.plan.instances.map(async (i) => ((await liveSessions(lab, i.server, i.proto)).includes(t.key) ? [i.id] : [])))).flat();
  if (live.length) fail(`${t.key}'s session with its old key survived the re-issue on ${live.join(", ")}`);
  const running = lab.clients.get(t.key);
  if (running) await lab.procs.stop(running, 3000);
  lab.clients.delete(t.key);
  // Three instances, three logs: the attempts run at once.
  const ids = ["vpn1-udp", "vpn2-udp", "vpn1-tcp"];
  const olds = await Promise.all(ids.map((id) => refusedBeforeTls(lab, `tc2-old-${id}`, t, old.pem, inst(id), new RegExp(`lr-tc2: cn=${t.key} REJECT: tls-crypt-v2 key ${old.keyId} is not the tenant's current one`))));
  olds.forEach((r, i) => {
    noTls(`old key on ${ids[i]}`, r);
    out.push(`old key on ${ids[i]} refused by the hook (${secs(r.ms)})`);
  });

  // The new key: the tenant's own client (through its launcher) is back at its fixed IP.
  const p = await startClient(lab, t);
  if (!readLog(instanceLog(lab, "vpn1-udp")).includes(`lr-tc2: cn=${t.key} ACCEPT: tls-crypt-v2 key ${fresh.keyId}`)) fail(`vpn1-udp did not log the hook's ACCEPT of ${t.key}'s new key`);
  await reachesOwnMarker(lab, t);
  for (const { o, p: op, n } of rest) {
    if (connectCount(op.log) !== n) fail(`${o.key}'s session reconnected during ${t.key}'s key re-issue`);
    await reachesOwnMarker(lab, o);
  }
  return `${out.join("; ")}; re-issue applied on both servers in ${secs(applyMs)}, old session gone; new key connects at ${pushedAddress(p.log)}; ${rest.length} other tenant(s) untouched`;
}
