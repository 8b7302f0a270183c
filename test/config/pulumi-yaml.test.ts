/** Pulumi.yaml declares every config key the program reads, with the sub-keys named in its description. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { SECRET_KEYS } from "../../config/load";
import { stackSchema } from "../../config/schema";

const project = parse(readFileSync(join(__dirname, "../../Pulumi.yaml"), "utf8")) as {
  name: string;
  config: Record<string, { type?: string; description?: string; secret?: boolean; default?: unknown }>;
};

/** The object shape under optional/default wrappers, if the schema is an object. */
function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodObject) return s.shape as Record<string, z.ZodType>;
    const inner = (s as unknown as { def: { innerType?: z.ZodType } }).def.innerType;
    if (!inner) return undefined;
    s = inner;
  }
  return undefined;
}

describe("Pulumi.yaml", () => {
  const shape = stackSchema.shape as Record<string, z.ZodType>;

  it("is the librerouter-hosting project on nodejs/TypeScript", () => {
    expect(project.name).toBe("librerouter-hosting");
  });

  it("declares exactly the schema's keys plus the secrets, each with a description", () => {
    expect(Object.keys(project.config).sort()).toEqual([...Object.keys(shape), ...SECRET_KEYS].sort());
    for (const [key, decl] of Object.entries(project.config)) expect([key, (decl.description ?? "").length > 20]).toEqual([key, true]);
  });

  it("marks the secrets secret and gives them no default", () => {
    for (const key of SECRET_KEYS) expect([key, project.config[key].secret, project.config[key].default]).toEqual([key, true, undefined]);
  });

  it("gives a default to exactly the keys the schema makes optional, and the schema accepts that default (else the CLI refuses every stack that leaves it out)", () => {
    const optional = Object.keys(shape).filter((k) => shape[k].safeParse(undefined).success);
    expect(Object.keys(project.config).filter((k) => project.config[k].default !== undefined).sort()).toEqual(optional.sort());
    expect(optional.sort()).toEqual(["assumptions", "bans", "consoles", "ha", "hardware", "monitoring", "nodes", "numberedTenants", "placement", "sdn", "services", "shards", "template", "tenantDefaults", "tenantNetwork", "tenants", "vpn"]);
    for (const k of optional) expect([k, shape[k].safeParse(project.config[k].default).success]).toEqual([k, true]);
  });

  it("names every sub-key of an object setting in its description", () => {
    const missing: string[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      const sub = shapeOf(schema);
      if (!sub) continue;
      for (const name of Object.keys(sub)) if (!project.config[key].description?.includes(name)) missing.push(`${key}.${name}`);
    }
    expect(missing).toEqual([]);
  });
});
