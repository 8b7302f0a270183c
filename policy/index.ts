/**
 * Entry point of the policy pack: `pulumi preview --policy-pack policy`. Constructing the PolicyPack
 * starts the analyzer's gRPC server, so nothing else imports this file (tests use `policies.ts`).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("librerouter-hosting", { policies, enforcementLevel: "mandatory" });
