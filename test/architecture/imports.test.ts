/**
 * The folders depend on each other in one direction only: lib ← config ← plan ← {sizing, render} ← stack ←
 * {components, lab, cli, policy, bench}. Every import of every production .ts file is checked against the table;
 * the pure folders also never import the Pulumi SDKs.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const BASE = ["lib", "config", "plan"] as const;

/** Folder → the folders its files may import (besides its own). `root` is index.ts, the Pulumi program. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  config: ["lib"],
  plan: ["lib", "config"],
  sizing: [...BASE],
  render: [...BASE],
  stack: [...BASE, "sizing"],
  components: [...BASE, "sizing", "render", "stack"],
  root: [...BASE, "sizing", "render", "stack", "components"],
  lab: [...BASE, "sizing", "render", "stack"],
  cli: [...BASE, "sizing", "render", "stack"],
  policy: [...BASE, "sizing", "render", "stack"],
  bench: [...BASE, "sizing", "render", "stack", "components", "root"],
};
/** Folders that stay pure: no Pulumi SDK, so they run (and are tested) without an engine. */
const PURE = new Set(["lib", "config", "plan", "sizing", "render", "stack"]);
const SDK = /^@pulumi\/|^@muhlba91\/pulumi-/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" || name === "out" ? [] : tsFiles(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports, `import()` and `require()`. */
function specifiers(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const re of [/\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g]) {
    for (const m of text.matchAll(re)) found.push(m[1]);
  }
  return found;
}

/** The folder (layer) of a path inside the repository. */
function layerOf(path: string): string {
  const rel = relative(ROOT, path);
  const [first] = rel.split("/");
  return rel === "index" || rel === "index.ts" ? "root" : first;
}

interface Edge {
  readonly file: string;
  readonly from: string;
  readonly spec: string;
  readonly to: string;
}

function edges(): Edge[] {
  const files = [...Object.keys(ALLOWED).filter((l) => l !== "root").flatMap((l) => tsFiles(join(ROOT, l))), join(ROOT, "index.ts")];
  return files.flatMap((file) =>
    specifiers(readFileSync(file, "utf8")).map((spec) => ({
      file: relative(ROOT, file),
      from: layerOf(file),
      spec,
      to: spec.startsWith(".") ? layerOf(resolve(dirname(file), spec)) : `package ${spec}`,
    })),
  );
}

describe("import direction", () => {
  const all = edges();

  test("the scan sees the imports (a parser that found none would pass everything)", () => {
    expect(all.some((e) => e.file === "plan/build.ts" && e.to === "config")).toBe(true);
    expect(all.some((e) => e.file === "index.ts" && e.to === "components")).toBe(true);
    expect(specifiers(`import type { A } from "../a";\nexport { b } from "./b";\nimport "./c";\nconst d = require("../d");\n// import x from "../commented";`)).toEqual(["../a", "./b", "./c", "../d"]);
  });

  test("every folder imports only the folders below it", () => {
    const wrong = all
      .filter((e) => !e.to.startsWith("package ") && e.to !== e.from && !ALLOWED[e.from].includes(e.to))
      .map((e) => `${e.file}: ${e.from} → ${e.to} ("${e.spec}")`);
    expect(wrong).toEqual([]);
  });

  test("the pure folders never import a Pulumi SDK", () => {
    const wrong = all.filter((e) => PURE.has(e.from) && SDK.test(e.spec)).map((e) => `${e.file}: "${e.spec}"`);
    expect(wrong).toEqual([]);
  });
});
