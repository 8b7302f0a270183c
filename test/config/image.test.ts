/** The stored name of a `createFromImage` image (config/image.ts): what Proxmox takes as `import` content; exact errors. */
import { importFileName, templateImageIssue, urlFileName } from "../../config/image";
import { configError, baseConfig, withChange } from "./fixture";
import { buildPlan } from "../../plan/build";

const EXTS = ".qcow2, .raw, .vmdk";

describe("urlFileName / importFileName", () => {
  test.each([
    ["https://img.example.net/lr/librerouter-1.5.qcow2", "librerouter-1.5.qcow2"],
    ["https://img.example.net/lr/librerouter%201.5.raw?sig=abc#x", "librerouter 1.5.raw"],
    ["https://img.example.net/", ""],
  ])("%s → %p", (url, name) => expect(urlFileName(url)).toBe(name));

  test("imageFileName wins over the URL's name", () => {
    expect(importFileName({ imageUrl: "https://img.example.net/lr.img", imageFileName: "lr.raw" })).toBe("lr.raw");
    expect(importFileName({ imageUrl: "https://img.example.net/lr.qcow2" })).toBe("lr.qcow2");
  });
});

type Row = [name: string, template: Record<string, unknown>, issue: string | undefined];
const U = "https://img.example.net/images";
const rows: Row[] = [
  ["qcow2 URL", { createFromImage: true, imageUrl: `${U}/lr-1.5.qcow2` }, undefined],
  ["raw URL", { createFromImage: true, imageUrl: `${U}/lr-1.5.raw` }, undefined],
  ["vmdk URL", { createFromImage: true, imageUrl: `${U}/lr-1.5.vmdk` }, undefined],
  ["an .img URL named .raw", { createFromImage: true, imageUrl: `${U}/lr-1.5.img`, imageFileName: "lr-1.5.raw" }, undefined],
  ["not building from an image: nothing to check", { createFromImage: false, imageUrl: `${U}/lr-1.5.img.gz` }, undefined],
  [
    "an .img URL",
    { createFromImage: true, imageUrl: `${U}/lr-1.5.img` },
    `template.imageUrl: "lr-1.5.img" does not end in ${EXTS}, which Proxmox requires for "import" content ("wrong file extension"); set template.imageFileName to the image's real format, e.g. "lr-1.5.raw" for a raw disk or "lr-1.5.qcow2" for qcow2`,
  ],
  [
    "an OpenWrt .img.gz URL",
    { createFromImage: true, imageUrl: `${U}/openwrt-23.05-x86-64-generic-ext4-combined.img.gz` },
    `template.imageUrl: "openwrt-23.05-x86-64-generic-ext4-combined.img.gz" is compressed, and Proxmox cannot decompress "import" content; serve the image uncompressed (e.g. gunzip the OpenWrt .img.gz: it is a raw disk) and point template.imageUrl at it, with a name ending in ${EXTS} (or set template.imageFileName, e.g. "openwrt-23.05-x86-64-generic-ext4-combined.raw")`,
  ],
  [
    "a .gz renamed to .raw is still compressed: the name cannot fix it",
    { createFromImage: true, imageUrl: `${U}/lr.qcow2.gz`, imageFileName: "lr.qcow2.gz" },
    `template.imageFileName: "lr.qcow2.gz" is compressed, and Proxmox cannot decompress "import" content; serve the image uncompressed (e.g. gunzip the OpenWrt .img.gz: it is a raw disk) and point template.imageUrl at it, with a name ending in ${EXTS} (e.g. "lr.raw")`,
  ],
  [
    "an OVA",
    { createFromImage: true, imageUrl: `${U}/lr.ova` },
    `template.imageUrl: "lr.ova" is an OVA (a whole VM), but the template imports one disk; use the disk image itself (${EXTS})`,
  ],
  [
    "a URL without a file name",
    { createFromImage: true, imageUrl: "https://img.example.net/" },
    `template.imageUrl: the URL has no file name, which Proxmox requires for "import" content ("wrong file extension"); set template.imageFileName to the image's real format, e.g. "librerouter.raw" for a raw disk or "librerouter.qcow2" for qcow2`,
  ],
  [
    "an imageFileName with a path",
    { createFromImage: true, imageUrl: `${U}/lr.img`, imageFileName: "../lr.raw" },
    `template.imageFileName: "../lr.raw" is not a plain file name; use letters, digits, '.', '_' or '-', ending in ${EXTS}, e.g. "librerouter.qcow2"`,
  ],
  [
    "a URL whose decoded file name holds a newline",
    { createFromImage: true, imageUrl: `${U}/lr%0ascript-security%202.qcow2` },
    `template.imageUrl: the URL's file name "lr\\nscript-security 2.qcow2" is not a plain file name (letters, digits, '.', '_' or '-'); set template.imageFileName, e.g. "librerouter.qcow2"`,
  ],
  [
    "a URL whose decoded file name is a path",
    { createFromImage: true, imageUrl: `${U}/..%2F..%2Fetc%2Flr.qcow2` },
    `template.imageUrl: the URL's file name "../../etc/lr.qcow2" is not a plain file name (letters, digits, '.', '_' or '-'); set template.imageFileName, e.g. "librerouter.qcow2"`,
  ],
  [
    "a URL with an unsafe file name and a plain imageFileName",
    { createFromImage: true, imageUrl: `${U}/lr%20x.img`, imageFileName: "lr.raw" },
    undefined,
  ],
];

describe("templateImageIssue", () => {
  test.each(rows)("%s", (_n, t, want) => {
    const i = templateImageIssue(t as Parameters<typeof templateImageIssue>[0]);
    expect(i ? `${i.key}: ${i.message}` : undefined).toBe(want);
  });

  test("buildPlan refuses a .img.gz template image with the config error's exact text", () => {
    const raw = withChange(baseConfig(), (c) => (c.template = { createFromImage: true, imageUrl: `${U}/lr.img.gz` }));
    expect(configError(raw).message).toBe(
      [
        'stack "test": config has 1 problem (nothing was created):',
        `  - librerouter-hosting:template.imageUrl: "lr.img.gz" is compressed, and Proxmox cannot decompress "import" content; serve the image uncompressed (e.g. gunzip the OpenWrt .img.gz: it is a raw disk) and point template.imageUrl at it, with a name ending in ${EXTS} (or set template.imageFileName, e.g. "lr.raw")`,
      ].join("\n"),
    );
  });

  test("buildPlan accepts the same URL with a name Proxmox takes, and keeps the name", () => {
    const raw = withChange(baseConfig(), (c) => (c.template = { createFromImage: true, imageUrl: `${U}/lr.img`, imageFileName: "lr.raw" }));
    expect(buildPlan(raw, "test").templates.image).toEqual({ url: `${U}/lr.img`, fileName: "lr.raw" });
  });
});
