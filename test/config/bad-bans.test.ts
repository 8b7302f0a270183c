/** Bad `bans:` blocks: durations, thresholds, the poll interval, the allowlist, the report quota; exact messages. */
import { buildPlan } from "../../plan/build";
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];

const rows: Row[] = [
  [
    "a duration in words",
    (c) => {
      c.bans = { banTime: "10 minutes" };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.banTime: got \"10 minutes\"; banTime must be a whole number and one unit, s, m, h or d, such as 10m or 1h"],
  ],
  [
    "a first ban under 10 s",
    (c) => {
      c.bans = { banTime: "5s" };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.banTime: got \"5s\"; banTime must be at least 10s"],
  ],
  [
    "a findTime over a day",
    (c) => {
      c.bans = { findTime: "2d" };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.findTime: got \"2d\"; findTime must be at most 1d"],
  ],
  [
    "retries 1",
    (c) => {
      c.bans = { retries: 1 };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.retries: got 1; retries must be at least 2"],
  ],
  [
    "retries quoted",
    (c) => {
      loose(c).bans = { retries: "5" };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.retries: got \"5\"; expected a number (write it without quotes)"],
  ],
  [
    "a poll slower than the 10 s goal allows",
    (c) => {
      c.bans = { pollSeconds: 10 };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.pollSeconds: got 10; pollSeconds must be at most 5: a ban reaches every member ≤ 1 s (agent push) + pollSeconds after the triggering event, so above 5 the 10 s goal is missed under load (Debian's 10 s default measured up to 11 s)"],
  ],
  [
    "an allowlist network with host bits",
    (c) => {
      c.bans = { allowlist: ["198.51.100.7/24"] };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.allowlist.0: got \"198.51.100.7/24\"; host bits are set; write the network address, 198.51.100.0/24"],
  ],
  [
    "an allowlist /0",
    (c) => {
      c.bans = { allowlist: ["0.0.0.0/0"] };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.allowlist.0: got \"0.0.0.0/0\"; a /0 would exempt every address and turn the ban grid off; name your ops and monitoring networks instead"],
  ],
  [
    "an allowlist host name",
    (c) => {
      c.bans = { allowlist: ["ops.example.net"] };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.allowlist.0: got \"ops.example.net\"; must be an IPv4 address or network such as 198.51.100.7 or 198.51.100.0/24"],
  ],
  [
    "findTime shorter than retries seconds",
    (c) => {
      c.bans = { findTime: "10s", retries: 20 };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.findTime: got \"10s\"; findTime must be at least retries (20) seconds: one refusal leaks from the bucket every findTime/retries, which cannot be under 1 s; raise findTime or lower retries"],
  ],
  [
    "a cap below the first ban",
    (c) => {
      c.bans = { banTime: "1h", repeat: { maxBanTime: "10m" } };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.repeat.maxBanTime: got \"10m\"; repeat.maxBanTime must be at least banTime (1h); raise it or lower banTime"],
  ],
  [
    "repeat factor 0",
    (c) => {
      c.bans = { repeat: { factor: 0 } };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.repeat.factor: got 0; repeat.factor must be at least 1 (1 = every ban lasts banTime)"],
  ],
  [
    "a quota of 0",
    (c) => {
      c.bans = { report: { quotaPerHour: 0 } };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.report.quotaPerHour: got 0; report.quotaPerHour must be at least 1"],
  ],
  [
    "report.enabled as a word",
    (c) => {
      loose(c).bans = { report: { enabled: "yes" } };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans.report.enabled: got \"yes\"; expected true or false"],
  ],
  [
    "a misspelt key",
    (c) => {
      loose(c).bans = { banTme: "1h" };
    },
    ['stack "test": config has 1 problem (nothing was created):', "  - librerouter-hosting:bans: unknown key \"banTme\" (did you mean \"banTime\"?); remove it or fix the spelling (see Pulumi.yaml)"],
  ],
];

describe("bad bans config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    expect(configError(withChange(baseConfig(), mutate)).message.split("\n")).toEqual(text);
  });

  it("two problems are both listed", () => {
    const e = configError(withChange(baseConfig(), (c) => { c.bans = { pollSeconds: 0, report: { quotaPerHour: 5000 } }; }));
    expect(e.issues.map((i) => i.key)).toEqual(["bans.pollSeconds", "bans.report.quotaPerHour"]);
  });

  it("the defaults are accepted: 10m ban doubling to 1d, 5 refusals in 10m, 2 s poll, reports on at 20 an hour", () => {
    const b = buildPlan(baseConfig(), "test").bans;
    expect({ durations: b.profile.durations, scenario: b.scenario, poll: b.pollSeconds, quota: b.report?.quotaPerHour }).toEqual({
      durations: ["10m", "20m", "40m", "1h20m", "2h40m", "5h20m", "10h40m", "21h20m", "24h"],
      scenario: { capacity: 4, leakspeed: "2m", retries: 5, blackhole: "1m" },
      poll: 2,
      quota: 20,
    });
  });
});
