/**
 * The lab's Pulumi.lab.yaml (lab/stack.ts labStackFile): what `npm run status -- --stack lab --dir <run>/stack` reads
 * must plan to the lab's own plan, monitoring periods included, in both modes and on two hosts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStackFile } from "../../config/load";
import { planStack } from "../../plan/build";
import { validateStack } from "../../plan/validate";
import { LAB_MONITORING } from "../../lab/monitoring";
import { type LabHosts, type LabMode, labPlan, labStack, labStackFile } from "../../lab/stack";

const HWID = "ab".repeat(32);
const cases: [LabMode, LabHosts, number][] = [
  ["fixed", 1, 2],
  ["distinct", 1, 3],
  ["fixed", 2, 4],
];

describe.each(cases)("Pulumi.lab.yaml, %s mode, %i host(s), %i tenants", (mode, hosts, tenants) => {
  const dir = mkdtempSync(join(tmpdir(), "lab-stack-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("read back as the CLI reads a stack, it plans exactly the lab's plan", () => {
    writeFileSync(join(dir, "Pulumi.lab.yaml"), labStackFile(labStack(tenants, HWID, mode, hosts)));
    const fromFile = planStack(validateStack(readStackFile(dir, "lab"), "lab"), "lab");
    const lab = labPlan(tenants, HWID, mode, hosts);
    expect(fromFile).toEqual(lab);
    expect(fromFile.tenants.map((t) => t.key)).toHaveLength(tenants);
  });

  test("its monitoring block is the lab's short periods (the alert checks' for: in seconds)", () => {
    const p = labPlan(tenants, HWID, mode, hosts);
    expect(p.monitoring.scrapeInterval).toBe(LAB_MONITORING.scrapeInterval);
    expect(p.monitoring.for).toEqual(LAB_MONITORING.for);
  });
});
