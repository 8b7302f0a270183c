/**
 * The SDK floor: the cheapest Pulumi program with a given number of ComponentResources and custom
 * resources (random-like, mocked by the same monitor as the real program). What the program costs
 * beyond this is its own work: plan, rendering, Output plumbing.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle, type Registration } from "./mock-program";

class Group extends pulumi.ComponentResource {
  constructor(name: string) {
    super("floor:index:Group", name, {}, {});
    this.registerOutputs({});
  }
}

class RandomLike extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super("random:index/randomId:RandomId", name, props, opts);
  }
}

/** Registers `components` groups and `customs` RandomId-typed resources spread over them; resolves when all are registered. */
export async function floorProgram(components: number, customs: number, into: Registration[]): Promise<void> {
  installMocks("floor", {}, into);
  const groups = Array.from({ length: Math.max(components, 1) }, (_, i) => new Group(`group-${i}`));
  for (let i = 0; i < customs; i++) {
    new RandomLike(`id-${i}`, { byteLength: 8, prefix: `p${i}-` }, { parent: groups[i % groups.length] });
  }
  await settle({});
}
