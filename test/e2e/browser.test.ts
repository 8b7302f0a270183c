/**
 * lab/browser.ts for real: Debian's headless Chromium in a client namespace opens a console page served over HTTPS
 * from a server namespace (the fixture in fixtures/browser-page, same contract as the tenant's page), trusting only
 * the lab PKI's CA through its NSS database. Proved: without that CA the page does not load (certificate error), so
 * the trust is real; a wrong password shows the refusal; the right one logs in; both consoles' screenshots pass
 * assertConsoleShot, and the checker refuses a blank image, a console that drew nothing and the certificate error
 * page. Root (namespaces); run under `flock /tmp/lab.lock`. Nothing leaves the two namespaces.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { assertConsoleShot, bundleCa, closeBrowser, consoleSession, launchBrowser, PHONE, screenshotScreen, screenshotText, snapshot, withBrowser, type Browser, type ShotFacts } from "../../lab/browser";
import { run } from "../../lab/exec";
import { Netns, runPrefix } from "../../lab/netns";
import { createPki } from "../../lab/pki";
import { alive } from "../../lab/procs";
import { labPlan } from "../../lab/stack";
import { renderClientBundle } from "../../render/client-bundle";

const SERVER_IP = "10.231.0.1";
const CLIENT_IP = "10.231.0.2";
const URL = `https://${SERVER_IP}/`;
const PASSWORD = `fixture-${process.pid}-pw`;
const root = mkdtempSync(join(tmpdir(), "lr-browser-e2e-"));
const netns = new Netns(runPrefix());
const lines: string[] = [];
const log = (l: string) => lines.push(l);
let caPem = "";
let server: ChildProcess | undefined;
let cli = "";
let browser: Browser | undefined;
const t0 = Date.now();

beforeAll(async () => {
  const [srv, c] = await netns.addMany(["bsrv", "bcli"]);
  cli = c;
  await netns.batch(srv, ["link set lo up"]);
  await netns.batch(cli, ["link set lo up"]);
  await netns.veth(srv, "eth0", cli, "eth0");
  await netns.addr(srv, "eth0", `${SERVER_IP}/30`);
  await netns.addr(cli, "eth0", `${CLIENT_IP}/30`);
  // The lab's PKI (the production profile): a CA and a service certificate for the gateway's address.
  const plan = labPlan(1, "0".repeat(64));
  const pki = await createPki(plan);
  // What the browser trusts is what the tenant holds: the <ca> of his rendered bundle (kept in memory: it has his key).
  const tenant = plan.tenants[0];
  const client = await pki.issueClient(tenant.key);
  caPem = bundleCa(renderClientBundle(plan, tenant, { caPem: pki.caPem, certPem: client.certPem, keyPem: client.keyPem, tlsCryptV2Key: pki.tc2Key(tenant.key).pem }));
  expect(caPem.trim()).toBe(pki.caPem.trim());
  const gw = await pki.issueService("console-gateway", [SERVER_IP]);
  writeFileSync(join(root, "gw.crt"), gw.certPem, { mode: 0o644 });
  writeFileSync(join(root, "gw.key"), gw.keyPem, { mode: 0o600 });
  const serve = join(__dirname, "fixtures", "browser-page", "serve.py");
  const p = spawn("ip", ["netns", "exec", srv, "python3", serve, "--bind", SERVER_IP, "--port", "443", "--cert", join(root, "gw.crt"), "--key", join(root, "gw.key")], { stdio: ["pipe", "ignore", "pipe"] });
  server = p;
  p.stdin.end(`${PASSWORD}\n`);
  let err = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture server did not start: ${err}`)), 10_000);
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (/serving/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.on("exit", (code) => reject(new Error(`fixture server exited ${code}: ${err}`)));
  });
}, 30_000);

afterAll(async () => {
  if (browser) await closeBrowser(browser);
  server?.kill("SIGKILL");
  const problems = await netns.cleanup();
  rmSync(root, { recursive: true, force: true });
  lines.push(`[browser] suite: ${Date.now() - t0} ms in all`);
  process.stdout.write(`${lines.join("\n")}\n`);
  expect(problems).toEqual([]);
}, 30_000);

const facts = (file: string): ShotFacts => JSON.parse(readFileSync(`${file}.json`, "utf8")) as ShotFacts;

test("without the CA in its NSS database Chromium refuses the page (certificate error), and the checker refuses that error page", async () => {
  const file = join(root, "no-ca.png");
  const pid = await withBrowser({ ns: cli, caPem: null, dir: join(root, "b-noca"), log }, async (b) => {
    await expect(consoleSession(b, URL, PASSWORD)).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/);
    const [page] = (await b.pages()).slice(-1);
    await snapshot(page, file, "screen");
    return b.process()?.pid;
  });
  expect(pid).toBeGreaterThan(0);
  expect(alive(pid as number)).toBe(false);
  // closeBrowser left nothing of Chromium (zygote, GPU, renderers): the client namespace runs no process at all.
  expect((await run(["ip", "netns", "pids", cli])).stdout.trim()).toBe("");
  expect(facts(file).url).toMatch(/^chrome-error:/);
  expect(() => assertConsoleShot(file, "screen")).toThrow(/not the console page \(no window\.lrConsole/);
});

test("with only the lab CA trusted: the page loads on a phone viewport, a wrong password is refused, the right one logs in, and both consoles' screenshots pass", async () => {
  browser = await launchBrowser({ ns: cli, caPem, dir: join(root, "b-ca"), log });
  // Its NSS database holds exactly one certificate, the CA, trusted for TLS servers only ("C,,").
  const nss = (await run(["certutil", "-L", "-d", `sql:${join(root, "b-ca", "home", ".pki", "nssdb")}`])).stdout.split("\n").slice(4).filter((l) => l.trim());
  expect(nss.map((l) => l.trim().split(/\s+/))).toEqual([["librerouter-ca-1", "C,,"]]);
  const wrong = await consoleSession(browser, URL, "not-the-password");
  expect(wrong.loginResult).toBe("refused");
  expect(wrong.refusal).toBe("Wrong password.");
  expect(await wrong.page.evaluate(() => [(globalThis as unknown as { innerWidth: number }).innerWidth, (globalThis as unknown as { innerHeight: number }).innerHeight])).toEqual([PHONE.width, PHONE.height]);
  await wrong.page.close();

  const s = await consoleSession(browser, URL, PASSWORD);
  expect([s.loginResult, s.refusal]).toEqual(["ready", ""]);
  const screen = await screenshotScreen(s.page, join(root, "screen.png"));
  const text = await screenshotText(s.page, join(root, "text.png"));
  const shares = { screen: assertConsoleShot(screen.file, "screen"), text: assertConsoleShot(text.file, "text", "librerouter login:") };
  log(`[browser] content shares (image/console area): screen ${shares.screen.image.toFixed(3)}/${shares.screen.region.toFixed(3)}, text ${shares.text.image.toFixed(3)}/${shares.text.region.toFixed(3)}`);
  expect(screen.facts.console).toEqual({ state: "ready", screen: "connected", text: "connected", termText: expect.stringContaining("librerouter login:") });
  // Each shot is of its own tab: the canvas is hidden on the text shot and the terminal on the screen shot.
  expect(() => assertConsoleShot(text.file, "screen")).toThrow(/the shot is of the text console, not screen/);
  expect(() => assertConsoleShot(text.file, "text", "no such text")).toThrow(/termText\(\) does not contain no such text/);
  await s.page.close();
});

test("the checker refuses a console that connected but drew nothing, and a blank image", async () => {
  const b = (browser ??= await launchBrowser({ ns: cli, caPem, dir: join(root, "b-ca"), log }));
  const s = await consoleSession(b, `${URL}?blank=1`, PASSWORD);
  expect(s.loginResult).toBe("ready");
  const screen = await screenshotScreen(s.page, join(root, "blank-screen.png"), 15_000, 500);
  const text = await screenshotText(s.page, join(root, "blank-text.png"), 15_000, 500);
  expect(() => assertConsoleShot(screen.file, "screen")).toThrow(/the console area \d+x\d+ at \d+,\d+ is blank: 0\.00% differ/);
  expect(() => assertConsoleShot(text.file, "text")).toThrow(/termText\(\) is empty[\s\S]*the console area \d+x\d+ at \d+,\d+ is blank/);
  await s.page.close();

  // A white image with a sidecar that claims a connected console: the pixels still decide.
  const white = new PNG({ width: PHONE.width, height: PHONE.height });
  white.data.fill(255);
  const file = join(root, "white.png");
  writeFileSync(file, PNG.sync.write(white));
  writeFileSync(`${file}.json`, JSON.stringify({ ...screen.facts, url: "file:///white.png" }));
  expect(() => assertConsoleShot(file, "screen")).toThrow(/image is near-uniform: 0\.00% of 329160 pixels/);
  // And an image nobody described is refused outright.
  rmSync(`${file}.json`);
  expect(() => assertConsoleShot(file, "screen")).toThrow(/no sidecar/);
});
