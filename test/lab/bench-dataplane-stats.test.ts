import { cpuSeconds, median, parseProcStat, perPacket, roundOrder, summarize } from "../../lab/bench-dataplane-stats";

// A /proc/stat head as Linux 6.x prints it: cpu user nice system idle iowait irq softirq steal guest guest_nice.
const STAT_A = "cpu  36577 12 8256 74692 278 3 89 39 0 0\ncpu0 18000 6 4100 37000 100 1 40 20 0 0\nintr 1 2 3\n";
const STAT_B = "cpu  36777 12 8556 74892 278 5 389 39 0 0\ncpu0 18100 6 4250 37100 100 2 190 20 0 0\n";

describe("parseProcStat", () => {
  it("reads the aggregate cpu line, nice as user and iowait as idle, not a per-cpu line", () => {
    expect(parseProcStat(STAT_A)).toEqual({ user: 36589, system: 8256, idle: 74970, irq: 3, softirq: 89, steal: 39 });
  });
  it("refuses text without the aggregate line, or with too few fields", () => {
    expect(() => parseProcStat("cpu0 1 2 3 4 5 6 7 8\n")).toThrow("/proc/stat has no aggregate `cpu ` line");
    expect(() => parseProcStat("cpu  1 2 3\n")).toThrow('/proc/stat cpu line has not 8 numeric fields: "cpu  1 2 3"');
  });
});

describe("cpuSeconds and perPacket", () => {
  const cpu = cpuSeconds(parseProcStat(STAT_A), parseProcStat(STAT_B));
  it("turns tick deltas into seconds at USER_HZ 100", () => {
    expect(cpu).toEqual({ user: 2, system: 3, idle: 2, irq: 0.02, softirq: 3, steal: 0 });
  });
  it("spreads softirq, and user+system, over the packets in ns", () => {
    expect(perPacket(cpu, 1_000_000)).toEqual({ softirqNs: 3000, userSysNs: 5000 });
  });
  it("gives NaN, not a fast figure, when no packet went through", () => {
    expect(perPacket(cpu, 0)).toEqual({ softirqNs: NaN, userSysNs: NaN });
  });
});

describe("median and summarize", () => {
  it("takes the middle of an odd count and the mean of the middle two of an even one, unsorted input", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow("median of no samples");
  });
  it("reports the spread as (max − min) / median", () => {
    expect(summarize([90, 100, 120])).toEqual({ median: 100, min: 90, max: 120, spread: 0.3 });
  });
});

describe("roundOrder", () => {
  it("visits every rig once per round, and over n rounds puts each rig in every position", () => {
    const n = 6;
    const rounds = Array.from({ length: n }, (_, r) => roundOrder(n, r));
    for (const order of rounds) expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (let pos = 0; pos < n; pos++) expect(new Set(rounds.map((o) => o[pos])).size).toBe(n);
  });
});
