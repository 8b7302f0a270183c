/** The seed's own figures that do not follow from its inputs, recomputed (and the ones that do, absent). */
import { DEFAULT_ASSUMPTIONS } from "../../sizing/assumptions";
import { seedFindings } from "../../sizing/findings";
import { PROFILES, usableTb } from "../../sizing/profiles";
import { reportOf } from "./helpers";

const infra = { vpnMemoryMb: 1024, servicesMemoryMb: 1024, vpnCores: 2, servicesCores: 1 };
const findings = (profile: keyof typeof PROFILES, a = DEFAULT_ASSUMPTIONS) => seedFindings(PROFILES[profile], a, infra);
const text = (profile: keyof typeof PROFILES, topic: string) => findings(profile).find((f) => f.topic === topic)?.recomputed;

describe("which seed figures do not follow", () => {
  test.each([
    ["minimal", ["ips", "installer"]],
    ["optimal", ["ram", "payback", "ips", "installer", "disk", "cpu"]],
    ["full", ["ram", "ips", "installer", "power"]],
  ] as const)("%s: %j", (profile, topics) => {
    expect(findings(profile).map((f) => f.topic)).toEqual(topics);
  });
});

describe("the recomputation", () => {
  test("payback: 18,000 / (500 × 20 − 2,800) = 2.5 months, not < 2", () => {
    expect(18000 / (500 * 20 - 2800)).toBe(2.5);
    expect(findings("optimal").find((f) => f.topic === "payback")).toEqual({
      topic: "payback",
      seed: "ROI: <2 meses",
      recomputed: "18,000 EUR / (10,000 − 2,800 = 7,200 EUR/month) = 2.5 months, not < 2",
    });
  });
  test("optimal RAM: 500 × 512 MiB floors + 42.4 GiB overhead = 292.4 GiB > 256", () => {
    // overhead: host 8 GiB + 2 × 1 GiB VPN + 1 GiB services + 503 × 64 MiB QEMU = 42.4375 GiB
    expect(8 + 2 + 1 + (503 * 64) / 1024).toBe(42.4375);
    expect(text("optimal", "ram")).toBe(
      "500 balloon floors × 512 MiB = 250.0 GiB + host, VPN servers, services and QEMU overhead 42.4 GiB = 292.4 GiB: 256 GiB does not hold even the floors",
    );
  });
  test("full RAM: neither reading of '(512M-2G) * 500 at 50%load' gives ~496", () => {
    expect([(500 * 2048 * 0.5) / 1024, (500 * (512 + 0.5 * 1536)) / 1024]).toEqual([500, 625]);
    expect(text("full", "ram")).toBe(
      "at 50 % load: 500 × 2,048 MiB × 0.5 = 500.0 GiB, or floor + 50 % of the range 500 × 1,280 MiB = 625.0 GiB; neither is 496 GiB, and the overhead adds 42.4 GiB (667.4 GiB expected)",
    );
  });
  test("IPs: 2 × /24 = 512 addresses, 506 usable, 504 needed", () => {
    expect(2 * (256 - 3)).toBe(506);
    expect(text("optimal", "ips")).toBe(
      "2 × /24 = 512 addresses but 506 usable (network, broadcast and gateway of each); 500 tenants + host + 2 VPN servers + services = 504: 2 spare",
    );
  });
  test("installer: 512 MiB floor vs the installer's 2 GB", () => {
    expect(text("minimal", "installer")).toBe(
      "a 512 MiB balloon floor is below the 2,048 MiB the LibreRouter installer requires: install on the template at full memory; a running tenant may be squeezed below what its installer accepted",
    );
  });
  test("optimal disk: 16 TB usable holds 465 full 32 GiB disks, not 500", () => {
    expect(usableTb(4, 8, "raid1")).toBe(16);
    expect(Math.floor(16e12 / (32 * 1024 ** 3))).toBe(465);
    expect(text("optimal", "disk")).toBe(
      "500 × 32 GiB VM disks = 17.18 TB when written full, above the 16.00 TB usable; the array holds 465 full disks (fine only while linked clones stay thin)",
    );
  });
  test("optimal CPU: 505 vCPUs on 24 threads", () => {
    expect(text("optimal", "cpu")).toBe("505 vCPUs on 12 cores × 2 threads = 21.0 per thread, above 12; needs 22 cores");
  });
  test("full power: 500 drives leave no PSU redundancy", () => {
    expect(text("full", "power")).toBe("host 250 W + 500 tenants × 1 W + 500 drives × 7 W = 4,250 W, above the 3,400 W left when one PSU fails");
  });
});

describe("findings follow the assumptions, not the stack's hardware overrides", () => {
  test("a looser vCPU limit removes the CPU finding", () => {
    expect(findings("optimal", { ...DEFAULT_ASSUMPTIONS, vcpuPerThreadMax: 24 }).map((f) => f.topic)).not.toContain("cpu");
  });
  test("prod overrides RAM and cores, but its report still shows the seed's optimal findings", () => {
    expect(reportOf("prod").findings).toEqual(findings("optimal"));
  });
  test("usable space by RAID level", () => {
    expect([usableTb(4, 8, "raid1"), usableTb(4, 8, "raid10"), usableTb(4, 8, "raid5"), usableTb(4, 8, "raid6"), usableTb(500, 0.5, "none")]).toEqual([16, 16, 24, 16, 250]);
  });
});
