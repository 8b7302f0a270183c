/**
 * The two VPN servers never restart at the same moment: vpn2's setup command depends on vpn1's, so a change to a
 * file both carry (CA, hooks, tls-crypt) updates vpn1 first, and vpn2 only once vpn1's setup (its OpenVPN restart
 * included) has finished. Read from the options the program registers (the engine orders updates by them); what a
 * real engine does with a failed vpn1 update (vpn2 not touched) the mocks cannot show.
 */
import { readStackFile } from "../../config/load";
import { type ProgramRun, byName, runProgram } from "./harness";

const ROOT = `${__dirname}/../..`;
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram("minimal", readStackFile(ROOT, "minimal"));
  if (run.error) throw run.error;
}, 120_000);

describe("VPN server setup order", () => {
  it("vpn2's setup depends on vpn1's setup; vpn1's on nothing of vpn2", () => {
    const [vpn1, vpn2] = ["vpn1-setup", "vpn2-setup"].map((n) => byName(run.resources, n));
    expect(vpn2.options.dependencies).toContain(vpn1.urn);
    const vpn2Urns = run.resources.filter((r) => r.name.startsWith("vpn2-")).map((r) => r.urn);
    expect(vpn1.options.dependencies.filter((u) => vpn2Urns.includes(u))).toEqual([]);
  });

  it("the VMs are not serialised: only the setup commands are (vpn2's VM does not wait for vpn1)", () => {
    const vpn1Urns = run.resources.filter((r) => r.name.startsWith("vpn1-")).map((r) => r.urn);
    expect(byName(run.resources, "vpn2-vm").options.dependencies.filter((u) => vpn1Urns.includes(u))).toEqual([]);
  });
});
