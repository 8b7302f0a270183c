/**
 * One golden-file mechanism for the rendered texts: a directory holds exactly one file per rendered text.
 * Tests only compare (a missing or stale file fails); `npm run goldens` (test/tools/write-goldens.ts) rewrites
 * them, so a reviewer sees every change in the diff.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A golden directory and the texts it must hold, by file name. */
export interface GoldenSet {
  readonly dir: string;
  readonly files: ReadonlyMap<string, string>;
}

/** Jest tests: the directory lists exactly the rendered names, and each file equals its text byte for byte. */
export function expectGoldens(set: GoldenSet): void {
  it("has exactly one golden file per rendered text (none missing, none stale)", () => {
    const present = existsSync(set.dir) ? readdirSync(set.dir).sort() : [];
    expect(present).toEqual([...set.files.keys()].sort());
  });
  it.each([...set.files.keys()])("%s matches its golden file", (name) => {
    const file = join(set.dir, name);
    expect(existsSync(file)).toBe(true);
    expect(set.files.get(name)).toBe(readFileSync(file, "utf8"));
  });
}

/** Writes every text and deletes files no longer rendered; returns the names written, changed or deleted. */
export function writeGoldens(set: GoldenSet): { changed: string[]; deleted: string[] } {
  mkdirSync(set.dir, { recursive: true });
  const deleted = readdirSync(set.dir).filter((f) => !set.files.has(f));
  for (const f of deleted) rmSync(join(set.dir, f));
  const changed: string[] = [];
  for (const [name, text] of set.files) {
    const file = join(set.dir, name);
    if (existsSync(file) && readFileSync(file, "utf8") === text) continue;
    writeFileSync(file, text);
    changed.push(name);
  }
  return { changed, deleted };
}
