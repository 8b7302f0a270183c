import { shellcheck } from "./shellcheck";

describe("shellcheck helper", () => {
  it("passes a clean script", () => {
    expect(shellcheck('#!/bin/sh\nset -eu\nprintf "%s\\n" "$1"\n')).toEqual({ ok: true, report: "" });
  });
  it("reports an unquoted expansion with its code", () => {
    const r = shellcheck("#!/bin/sh\nrm $1\n");
    expect(r.ok).toBe(false);
    expect(r.report).toContain("SC2086");
  });
});
