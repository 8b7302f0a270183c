/**
 * The verdict on a tenant console seen through the tenant's own tunnel: an RFB server answers at
 * `<gateway>:5900`, never offers security type None (1), accepts the tenant's password and refuses a wrong
 * one (README "console-own"). Pure: the handshakes are done by lab/rfb.ts.
 */
import type { RfbResult } from "../lab/rfb";

/** Problems with the two handshakes (right password, wrong password); empty when the console is as it must be. */
export function judgeConsole(right: RfbResult, wrong: RfbResult): string[] {
  const problems: string[] = [];
  if (!/^RFB \d{3}\.\d{3}$/.test(right.version)) problems.push(`no RFB banner (got ${JSON.stringify(right.version)})`);
  for (const r of [right, wrong]) {
    if (r.securityTypes.includes(1)) {
      problems.push(`offers security type None (${JSON.stringify(r.securityTypes)}): the console is open without a password`);
      break;
    }
  }
  if (right.result !== "OK") problems.push(`the tenant's password is ${right.result}${right.reason ? ` (${right.reason})` : ""}, want OK`);
  if (wrong.result !== "FAILED") problems.push(`a wrong password is ${wrong.result}, want FAILED`);
  return problems;
}

/** A password of the same length that differs from `p` in every character (VNC only reads the first 8). */
export function wrongPassword(p: string): string {
  return [...p.padEnd(8, "x").slice(0, 8)].map((c) => (c === "Z" ? "Y" : "Z")).join("");
}
