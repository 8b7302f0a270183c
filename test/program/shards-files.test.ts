/**
 * The committed shard stacks' files of the cluster stack are exactly what `npm run shards -- --stack cluster` writes
 * (stack/shard-files.ts), and the generator keeps what a shard file holds of its own (salt, secrets).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { stacksIn } from "../../config/load";
import { shardFiles } from "../../stack/shard-files";

const ROOT = join(__dirname, "../..");
const read = (f: string): string | undefined => {
  try {
    return readFileSync(join(ROOT, f), "utf8");
  } catch {
    return undefined;
  }
};

test("Pulumi.cluster-sNN.yaml: one per shard with a tenant, each as the generator writes it from Pulumi.cluster.yaml (else: npm run shards -- --stack cluster)", () => {
  const files = shardFiles("cluster", read("Pulumi.cluster.yaml")!, read);
  expect(Object.keys(files)).toEqual(Array.from({ length: 30 }, (_, i) => `Pulumi.cluster-s${String(i + 1).padStart(2, "0")}.yaml`));
  expect(stacksIn(ROOT).filter((s) => s.startsWith("cluster-")).map((s) => `Pulumi.${s}.yaml`)).toEqual(Object.keys(files));
  for (const [f, text] of Object.entries(files)) expect([f, read(f)]).toEqual([f, text]);
  const s07 = parse(files["Pulumi.cluster-s07.yaml"]).config;
  const core = parse(read("Pulumi.cluster.yaml")!).config;
  expect(s07["librerouter-hosting:shards"]).toEqual({ ...core["librerouter-hosting:shards"], shard: "s07" });
  expect({ ...s07, "librerouter-hosting:shards": undefined }).toEqual({ ...core, "librerouter-hosting:shards": undefined });
});

test("the generator drops the core's secrets and keeps a shard file's own salt and secrets", () => {
  const core = read("Pulumi.cluster.yaml")!.replace("config:\n", "encryptionsalt: v1:core\nconfig:\n  librerouter-hosting:proxmoxPassword:\n    secure: v1:CORE\n");
  const mine = "encryptionsalt: v1:shard\nconfig:\n  librerouter-hosting:proxmoxPassword:\n    secure: v1:SHARD\n  librerouter-hosting:profile: minimal\n";
  const files = shardFiles("cluster", core, (f) => (f === "Pulumi.cluster-s02.yaml" ? mine : undefined));
  const s02 = parse(files["Pulumi.cluster-s02.yaml"]);
  expect(s02.encryptionsalt).toBe("v1:shard");
  expect(s02.config["librerouter-hosting:proxmoxPassword"]).toEqual({ secure: "v1:SHARD" });
  expect(s02.config["librerouter-hosting:profile"]).toBe("full");
  const s03 = parse(files["Pulumi.cluster-s03.yaml"]);
  expect(s03.encryptionsalt).toBeUndefined();
  expect(s03.config["librerouter-hosting:proxmoxPassword"]).toBeUndefined();
});

test("refuses a core without shards.tenantsPerShard, and a shard file passed as the core", () => {
  expect(() => shardFiles("full", read("Pulumi.full.yaml")!, () => undefined)).toThrow(/shards\.tenantsPerShard: is not set in Pulumi\.full\.yaml/);
  expect(() => shardFiles("cluster-s01", read("Pulumi.cluster-s01.yaml")!, () => undefined)).toThrow(/shards\.shard: is set in Pulumi\.cluster-s01\.yaml: that is a shard stack/);
});

describe("npm run shards (cli/shards.ts)", () => {
  const cli = (args: string[]) => spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "cli/shards.ts"), ...args], { cwd: ROOT, encoding: "utf8" });

  test("--check passes on the committed files", () => {
    const r = cli(["--stack", "cluster", "--check"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
  }, 60_000);

  test("--check names a stale and a missing file and exits 1; without --check they are rewritten, and a shard left without tenants is named, never deleted", () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-shards-"));
    try {
      for (const f of readdirSync(ROOT).filter((x) => /^Pulumi\.cluster(-s\d+)?\.yaml$/.test(x))) copyFileSync(join(ROOT, f), join(dir, f));
      writeFileSync(join(dir, "Pulumi.cluster-s04.yaml"), read("Pulumi.cluster-s04.yaml")!.replace("shard: s04", "shard: s05"));
      rmSync(join(dir, "Pulumi.cluster-s09.yaml"));
      copyFileSync(join(ROOT, "Pulumi.cluster-s30.yaml"), join(dir, "Pulumi.cluster-s31.yaml"));
      const check = cli(["--stack", "cluster", "--dir", dir, "--check"]);
      expect(check.status).toBe(1);
      expect(check.stderr.split("\n").filter(Boolean).sort()).toEqual([
        "Pulumi.cluster-s04.yaml is missing or stale: run npm run shards -- --stack cluster",
        "Pulumi.cluster-s09.yaml is missing or stale: run npm run shards -- --stack cluster",
        "note: Pulumi.cluster-s31.yaml is no longer a shard of cluster (no tenant's slot in it): empty its stack (pulumi state move / destroy) before deleting the file",
      ]);
      const write = cli(["--stack", "cluster", "--dir", dir]);
      expect([write.status, write.stdout]).toEqual([0, "30 shard stacks of cluster: 2 written, 28 unchanged\n"]);
      expect(readFileSync(join(dir, "Pulumi.cluster-s04.yaml"), "utf8")).toBe(read("Pulumi.cluster-s04.yaml"));
      expect(readdirSync(dir)).toContain("Pulumi.cluster-s31.yaml");
      // The left-over shard's file is a note, not a failure: its stack may still hold resources.
      const again = cli(["--stack", "cluster", "--dir", dir, "--check"]);
      expect([again.status, again.stderr]).toEqual([0, check.stderr.split("\n").filter((l) => l.startsWith("note:")).join("\n") + "\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
