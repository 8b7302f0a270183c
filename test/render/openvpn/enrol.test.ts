/**
 * One enrolment decision for both VPN servers (review H3): the rendered auth hooks of vpn1 (the authority) and vpn2
 * with their real responders (socat + the rendered script) on a loopback pair. A stolen bundle cannot enrol on the
 * server the tenant did not use, a rebuilt server learns from its peer, and a peer that does not answer means no
 * enrolment. The grammar of the responder and its address filter: test/e2e/enrol-responder.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderEnrolResponder } from "../../../render/enrol-peer";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { shellcheck } from "../../tools/shellcheck";
import { type HookServer, type Pair, installPair, record, recordPath, removePair, runHook, runHookAsync, startResponder, stopResponder } from "./hook-servers";

const TENANT = "a".repeat(64);
const THIEF = "b".repeat(64);
const cn = "coop-sur";

const pairs: Pair[] = [];
async function up(): Promise<Pair> {
  const pair = installPair();
  pairs.push(pair);
  await startResponder(pair.vpn1);
  await startResponder(pair.vpn2);
  return pair;
}
afterAll(async () => {
  for (const p of pairs) await removePair(p);
});

const files = (s: HookServer) => readdirSync(openvpnFilePaths(s.layout).enrolledDir).sort();

describe("enrolment across both servers", () => {
  it("first use through vpn1 (the authority) is recorded on both; the stolen bundle on vpn2 is refused", async () => {
    const { vpn1, vpn2 } = await up();
    expect(runHook(vpn1, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 0, log: `lr-auth: cn=${cn} ACCEPT: enrolled on first use (replica on vpn2)` });
    expect([record(vpn1, cn), record(vpn2, cn)]).toEqual([`${TENANT}\n`, `${TENANT}\n`]);
    expect(runHook(vpn2, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: hwid does not match enrolled pin` });
    expect(runHook(vpn2, { common_name: cn, UV_HWID: TENANT }).code).toBe(0);
  });

  it("vpn2 rebuilt (empty store): it learns vpn1's record before deciding, so the thief is still refused", async () => {
    const { vpn1, vpn2 } = await up();
    expect(runHook(vpn1, { common_name: cn, UV_HWID: TENANT }).code).toBe(0);
    rmSync(recordPath(vpn2, cn));
    expect(runHook(vpn2, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: hwid does not match enrolled pin (learned from vpn1)` });
    expect(record(vpn2, cn)).toBe(`${TENANT}\n`);
    expect(runHook(vpn2, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 0, log: `lr-auth: cn=${cn} ACCEPT: hwid matches enrolled pin` });
    expect(files(vpn2)).toEqual([cn]);
  });

  it("first use through vpn2 is claimed at vpn1; the stolen bundle on vpn1 is refused; vpn1 rebuilt learns it back from vpn2", async () => {
    const { vpn1, vpn2 } = await up();
    expect(runHook(vpn2, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 0, log: `lr-auth: cn=${cn} ACCEPT: enrolled on first use at vpn1` });
    expect([record(vpn1, cn), record(vpn2, cn)]).toEqual([`${TENANT}\n`, `${TENANT}\n`]);
    expect(runHook(vpn1, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: hwid does not match enrolled pin` });
    rmSync(recordPath(vpn1, cn));
    expect(runHook(vpn1, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: hwid does not match enrolled pin (learned from vpn2)` });
    expect(record(vpn1, cn)).toBe(`${TENANT}\n`);
  });

  it("the authority does not enrol while vpn2 is down (vpn2 may hold a record vpn1 lost); once vpn2 is back it does", async () => {
    const { vpn1, vpn2 } = await up();
    await stopResponder(vpn2);
    expect(runHook(vpn1, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: enrolment needs both servers: vpn2 did not answer` });
    expect(files(vpn1)).toEqual([]);
    await startResponder(vpn2);
    expect(runHook(vpn1, { common_name: cn, UV_HWID: TENANT }).code).toBe(0);
    expect(record(vpn2, cn)).toBe(`${TENANT}\n`);
  });

  it("the peer down: no enrolment anywhere (fail closed); enrolled and pinned tenants are unaffected", async () => {
    const { vpn1, vpn2 } = await up();
    expect(runHook(vpn1, { common_name: "acme", UV_HWID: TENANT }).code).toBe(0);
    await stopResponder(vpn1);
    await stopResponder(vpn2);
    expect(runHook(vpn2, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: enrolment needs both servers: vpn1 did not answer` });
    expect(runHook(vpn1, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, log: `lr-auth: cn=${cn} REJECT: enrolment needs both servers: vpn2 did not answer` });
    expect([files(vpn1), files(vpn2)]).toEqual([["acme"], ["acme"]]);
    expect(runHook(vpn1, { common_name: "acme", UV_HWID: TENANT }).code).toBe(0);
    expect(runHook(vpn2, { common_name: "acme", UV_HWID: TENANT }).code).toBe(0);
  });

  it("of 8 simultaneous first connections with different IDs, 4 on each server, exactly one wins, and both servers hold its ID", async () => {
    const { vpn1, vpn2 } = await up();
    const ids = [..."12345678"].map((c) => c.repeat(64));
    const codes = await Promise.all(ids.map((id, i) => runHookAsync(i % 2 ? vpn2 : vpn1, { common_name: cn, UV_HWID: id })));
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    const winner = ids[codes.indexOf(0)];
    expect([record(vpn1, cn), record(vpn2, cn)]).toEqual([`${winner}\n`, `${winner}\n`]);
    expect([files(vpn1), files(vpn2)]).toEqual([[cn], [cn]]);
  });
});

/** Processes the hook forks (clone/fork/vfork calls, strace -f), and its exit status. */
function forks(s: HookServer, env: Record<string, string>): { code: number | null; forks: number } {
  const dir = mkdtempSync(join(tmpdir(), "lr-strace-"));
  try {
    const vars = Object.entries({ tls_digest_sha256_0: "c2:".repeat(31) + "c2", ...env }).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=clone,clone3,fork,vfork", "-o", `${dir}/t`, "/usr/bin/env", "-i", ...vars, s.hook, `${s.root}/via-file`]);
    if (r.error) throw new Error(`strace could not run (apt-get install strace): ${r.error.message}`);
    // `env` execs the hook (no fork): every call in the trace is the hook's or its children's.
    const calls = readFileSync(`${dir}/t`, "utf8").split("\n").filter((l) => /\b(clone3?|v?fork)\(/.test(l) && !/resumed/.test(l));
    return { code: r.status, forks: calls.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("fork-light (review L9)", () => {
  it("an enrolled tenant is decided without a single fork; a first enrolment forks only the peer call and the link", async () => {
    const { vpn1, vpn2 } = await up();
    // vpn2, no record: get (socat), claim (socat), then the local copy (ln, rm).
    expect(forks(vpn2, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 0, forks: 4 });
    expect(forks(vpn2, { common_name: cn, UV_HWID: TENANT })).toEqual({ code: 0, forks: 0 });
    expect(forks(vpn1, { common_name: cn, UV_HWID: THIEF })).toEqual({ code: 1, forks: 0 });
  });
});

describe("shellcheck", () => {
  const { vpn1, vpn2 } = installPair();
  pairs.push({ vpn1, vpn2 });
  it.each([vpn1, vpn2])("the responder of $name is clean", (s) => {
    expect(shellcheck(renderEnrolResponder("golden", s.peers, s.layout))).toEqual({ ok: true, report: "" });
  });
});
