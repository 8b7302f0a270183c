/**
 * Golden files for the 2-tenant plan: every rendered data-plane artifact, byte for byte, so a reviewer sees
 * each change (`npm run goldens` rewrites them). Every script is also shellcheck-clean.
 */
import { shellcheck } from "../../tools/shellcheck";
import { expectGoldens } from "../golden";
import { GOLDEN_KEY, dataplaneGoldens } from "./goldens";

const goldens = dataplaneGoldens();

describe("golden files (2-tenant plan)", () => {
  expectGoldens(goldens);

  it.each([...goldens.files].filter(([n]) => n.endsWith(".sh")))("%s is shellcheck-clean", (_name, text) => {
    expect(shellcheck(text)).toEqual({ ok: true, report: "" });
  });

  it("the setup script carries the key only as base64, never in clear", () => {
    const setup = goldens.files.get("setup.vpn1.sh") ?? "";
    expect(setup).not.toContain("GOLDENGOLDEN");
    expect(setup).toContain(Buffer.from(GOLDEN_KEY).toString("base64").slice(0, 60));
    expect(setup).not.toMatch(/set -x|cat "\$/);
  });
});
