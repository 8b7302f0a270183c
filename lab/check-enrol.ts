/**
 * Lab check `enrol-once` (review H3): an unpinned tenant enrolled through vpn1 is enrolled on both servers, so its
 * stolen bundle cannot enrol on vpn2, not even on a vpn2 rebuilt with an empty store; without its peer a server
 * enrols no one; the tenant itself is accepted on vpn2.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { TenantPlan } from "../plan/types";
import { tenantFilePaths } from "../render/tenant-scripts";
import { connectCount } from "./clients";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { outsiderAttempt } from "./outsider";
import { readLog } from "./procs";
import { instanceLog, startResponder, stopResponder } from "./servers";
import { fail } from "./check-kit";


const recordOf = (lab: Lab, server: "vpn1" | "vpn2", t: TenantPlan) => {
  const f = tenantFilePaths(lab.layouts[server], t).enrolled;
  return existsSync(f) ? readFileSync(f, "utf8").trim() : "";
};

/** What vpn2's UDP instance logged for `t` after `offset`. */
const vpn2Says = (lab: Lab, offset: number, t: TenantPlan, what: string) => readLog(instanceLog(lab, "vpn2-udp")).slice(offset).includes(`lr-auth: cn=${t.key} ${what}`);

export const enrolOnceCheck = {
  id: "enrol-once",
  title: "unpinned tenant enrolled through vpn1: its stolen bundle is refused on vpn2 (also on a rebuilt vpn2), no enrolment without the peer, the tenant is accepted on vpn2",
  async run(lab: Lab): Promise<string> {
    const t = lab.plan.tenants.find((x) => !x.hardwareId) ?? fail("control: the lab has no unpinned tenant (needs --tenants 2 or more)");
    if (lab.plan.unpinnedPolicy !== "enrol") fail(`control: the lab's unpinnedPolicy is ${lab.plan.unpinnedPolicy}, not enrol`);
    const real = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
    const connects = connectCount(real.log);
    const cert = lab.clientCerts.get(t.key) ?? fail(`${t.key}: no client certificate`);
    const thief = createHash("sha256").update("the thief's machine").digest("hex");
    // Control: the bring-up enrolled the tenant through vpn1 (its client dials vpn1 first), and vpn1 gave vpn2 the replica.
    if (!readLog(instanceLog(lab, "vpn1-udp")).includes(`lr-auth: cn=${t.key} ACCEPT: enrolled on first use (replica on vpn2)`)) fail(`control: vpn1-udp did not log ${t.key}'s first-use enrolment with a replica on vpn2`);
    const records = [recordOf(lab, "vpn1", t), recordOf(lab, "vpn2", t)];
    if (records.some((r) => r !== lab.hardwareId)) fail(`${t.key}'s records on vpn1/vpn2: ${JSON.stringify(records)}, expected the launcher's ID on both`);
    const vpn2Record = tenantFilePaths(lab.layouts.vpn2, t).enrolled;
    const timings: string[] = [];

    // vpn2 rebuilt with an empty store: the thief (same bundle, only vpn2's remotes, another ID) tries it first.
    rmSync(vpn2Record);
    let offset = readLog(instanceLog(lab, "vpn2-udp")).length;
    const stolen = await outsiderAttempt(lab, "enrol-thief-vpn2", t, cert, thief, 15_000, "vpn2");
    if (stolen.connected || !stolen.authFailed) fail(`the stolen bundle on a rebuilt vpn2: ${stolen.connected ? "got a tunnel" : `no AUTH_FAILED:\n${readLog(stolen.log).slice(-600)}`}`);
    if (!vpn2Says(lab, offset, t, "REJECT: hwid does not match enrolled pin (learned from vpn1)")) fail(`vpn2-udp did not refuse ${t.key}'s thief with the record learned from vpn1`);
    if (recordOf(lab, "vpn2", t) !== lab.hardwareId) fail(`vpn2 did not restore ${t.key}'s record from vpn1 (has ${JSON.stringify(recordOf(lab, "vpn2", t))})`);
    timings.push(`thief AUTH_FAILED ${secs(stolen.ms)}`);

    // Fail closed: vpn2 rebuilt while vpn1's responder is down enrols no one, not even the tenant.
    rmSync(vpn2Record);
    await stopResponder(lab, "vpn1");
    try {
      offset = readLog(instanceLog(lab, "vpn2-udp")).length;
      const alone = await outsiderAttempt(lab, "enrol-alone-vpn2", t, cert, lab.hardwareId, 15_000, "vpn2");
      if (alone.connected || !alone.authFailed) fail(`vpn2 without its peer: ${alone.connected ? "accepted an enrolment" : `no AUTH_FAILED:\n${readLog(alone.log).slice(-600)}`}`);
      if (!vpn2Says(lab, offset, t, "REJECT: enrolment needs both servers: vpn1 did not answer")) fail("vpn2-udp did not say that enrolment needs both servers");
      if (existsSync(vpn2Record)) fail(`vpn2 wrote ${vpn2Record} without its peer`);
      timings.push(`peer down AUTH_FAILED ${secs(alone.ms)}`);
    } finally {
      await startResponder(lab, "vpn1");
    }

    // The tenant itself on vpn2 (as after a failover): accepted with the record learned from vpn1.
    offset = readLog(instanceLog(lab, "vpn2-udp")).length;
    const own = await outsiderAttempt(lab, "enrol-tenant-vpn2", t, cert, lab.hardwareId, 15_000, "vpn2");
    if (!own.connected) fail(`${t.key} itself was refused on vpn2:\n${readLog(own.log).slice(-600)}`);
    if (!vpn2Says(lab, offset, t, "ACCEPT: hwid matches enrolled pin (learned from vpn1)")) fail(`vpn2-udp did not accept ${t.key} with the record learned from vpn1`);
    timings.push(`tenant on vpn2 ${secs(own.ms)}`);
    if (connectCount(real.log) !== connects) fail(`${t.key}'s own session on vpn1 reconnected during the check`);
    return `${t.key} enrolled once (vpn1 + replica on vpn2); rebuilt vpn2 learns from vpn1: ${timings.join("; ")}`;
  },
};
