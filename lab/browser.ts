/**
 * A real browser for the console checks: Debian's Chromium, headless, inside a network namespace (the tenant's client
 * namespace in the lab), with a profile of its own whose NSS database trusts exactly the CA it is given, and no
 * --ignore-certificate-errors: the page loads only if the tenant's CA is enough to trust it. Puppeteer drives it over
 * a pipe (--remote-debugging-pipe), since a DevTools port would sit on the namespace's loopback, out of our reach.
 *
 * The console page's contract (what the helpers below drive): login form `#password` + `#login`, refusal text in
 * `#refusal`; after login the tabs `#tab-screen` (noVNC canvas inside `#screen`) and `#tab-text` (terminal in
 * `#text`); `window.lrConsole = { state, screen, text, termText() }`.
 *
 * Every screenshot gets a sidecar `<file>.json` (a `ShotFacts`) with what the page said at that moment;
 * assertConsoleShot reads both and refuses a blank or near-uniform image, an empty console area, an error page or a
 * console that is not connected, printing what it saw.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export type { Browser, Page } from "puppeteer-core";

/** Debian's Chromium launcher (package `chromium`); certutil comes from `libnss3-tools`. */
export const CHROMIUM = "/usr/bin/chromium";

/** A phone-sized viewport (an iPhone 12–15's CSS pixels), at device scale 1 so screenshot pixels are CSS pixels. */
export const PHONE = { width: 390, height: 844, mobile: true } as const;

export interface Viewport {
  readonly width: number;
  readonly height: number;
  /** Mobile layout and touch events (default false). */
  readonly mobile?: boolean;
}

export interface BrowserOptions {
  /** Network namespace the browser runs in (must exist). */
  readonly ns: string;
  /** PEM of the CA(s) the browser trusts (the tenant bundle's `<ca>`); null: trust none of ours (proves the trust is real). */
  readonly caPem: string | null;
  /** Directory for the wrapper, HOME (with .pki/nssdb) and the profile; created 0700. The caller removes it. */
  readonly dir: string;
  /** Viewport of new pages (default PHONE). */
  readonly viewport?: Viewport;
  /** Where timings go (default stdout). */
  readonly log?: (line: string) => void;
  /** Launch deadline in ms (default 30 000). */
  readonly timeoutMs?: number;
}

export type LoginState = "ready" | "refused" | "locked" | "error";
export type ConsoleKind = "screen" | "text";

/** What `window.lrConsole` said (termText() called), or null when the page has no lrConsole. */
export interface ConsoleFacts {
  readonly state: string;
  readonly screen: string;
  readonly text: string;
  readonly termText: string;
}

/** A box in screenshot pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The sidecar `<png>.json` of a screenshot: the page's own account of what it showed. */
export interface ShotFacts {
  readonly kind: ConsoleKind;
  readonly url: string;
  readonly console: ConsoleFacts | null;
  /** The console's area: noVNC's canvas inside #screen, or the #text element (null when absent or hidden). */
  readonly region: Box | null;
  /** The page's visible text (first 600 characters), for failure messages. */
  readonly pageText: string;
  readonly ms: number;
}

export interface Shot {
  readonly file: string;
  readonly facts: ShotFacts;
}

export interface ConsoleSession {
  readonly page: Page;
  readonly loginResult: LoginState;
  /** The text of #refusal when it is shown ("" otherwise). */
  readonly refusal: string;
  readonly ms: { readonly load: number; readonly login: number };
}

/** Thresholds of assertConsoleShot. A pixel is "content" when its RGB distance (sum of |Δ|) to the region's most common colour exceeds `delta`. */
export const SHOT_LIMITS = { delta: 48, minImageShare: 0.01, minRegionShare: 0.004, minRegionPixels: 64 * 64 } as const;

interface Running {
  readonly pid: number | undefined;
  readonly profile: string;
  readonly log: (line: string) => void;
}
const running = new WeakMap<Browser, Running>();

const stdoutLog = (line: string): void => void process.stdout.write(`${line}\n`);
const since = (t0: number): number => Date.now() - t0;

/** The PEM certificates in `pem`, each a complete BEGIN…END block. */
export function pemBlocks(pem: string): string[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => `${m[0]}\n`);
}

/** The `<ca>` block of an OpenVPN bundle (what a tenant has): the CA a browser needs. */
export function bundleCa(bundle: string): string {
  const m = /<ca>\s*([\s\S]*?)\s*<\/ca>/.exec(bundle);
  if (!m || !pemBlocks(m[1]).length) throw new Error("the bundle has no <ca> block with a certificate");
  return `${m[1]}\n`;
}

function certutil(args: readonly string[]): string {
  const r = spawnSync("certutil", args, { encoding: "utf8" });
  if (r.error) throw new Error(`certutil (package libnss3-tools) could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`certutil ${args.join(" ")} failed [${r.status}]: ${(r.stderr + r.stdout).trim()}`);
  return r.stdout;
}

/** A fresh NSS database at `db` that trusts exactly the certificates of `caPem` as TLS server CAs ("C,,"). Returns their nicknames. */
export function makeNssDb(db: string, caPem: string | null): string[] {
  mkdirSync(db, { recursive: true, mode: 0o700 });
  certutil(["-N", "-d", `sql:${db}`, "--empty-password"]);
  const names = (caPem === null ? [] : pemBlocks(caPem)).map((pem, i) => {
    const name = `librerouter-ca-${i + 1}`;
    const file = join(db, `${name}.pem`);
    writeFileSync(file, pem, { mode: 0o600 });
    certutil(["-A", "-d", `sql:${db}`, "-n", name, "-t", "C,,", "-i", file]);
    return name;
  });
  if (caPem !== null && !names.length) throw new Error("caPem holds no PEM certificate");
  const listed = certutil(["-L", "-d", `sql:${db}`])
    .split("\n")
    .slice(4)
    .filter((l) => l.trim())
    .map((l) => l.trimEnd().replace(/\s+\S+$/, "").trim());
  if (JSON.stringify(listed.sort()) !== JSON.stringify([...names].sort())) throw new Error(`NSS database ${db} holds ${JSON.stringify(listed)}, expected exactly ${JSON.stringify(names)}`);
  return names;
}

/** The wrapper Puppeteer starts: Chromium inside `ns` (`ip netns exec` execs, so the pid Puppeteer holds is Chromium's). */
export function wrapperScript(ns: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(ns)) throw new Error(`unsafe namespace name ${JSON.stringify(ns)}`);
  return `#!/bin/sh\nexec ip netns exec '${ns}' ${CHROMIUM} "$@"\n`;
}

/**
 * Launches headless Chromium in namespace `ns`, its HOME and profile under `dir`, its NSS database trusting exactly
 * `caPem`. Root needs --no-sandbox. Close it with closeBrowser (or use withBrowser), also on failure.
 */
export async function launchBrowser(opts: BrowserOptions): Promise<Browser> {
  const t0 = Date.now();
  const log = opts.log ?? stdoutLog;
  if (!existsSync(`/run/netns/${opts.ns}`)) throw new Error(`no network namespace ${opts.ns}`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: install Debian's chromium package`);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  chmodSync(opts.dir, 0o700);
  const home = join(opts.dir, "home");
  const profile = join(opts.dir, "profile");
  mkdirSync(profile, { recursive: true, mode: 0o700 });
  makeNssDb(join(home, ".pki", "nssdb"), opts.caPem);
  const wrapper = join(opts.dir, "chromium-in-ns");
  writeFileSync(wrapper, wrapperScript(opts.ns), { mode: 0o700 });
  const vp = opts.viewport ?? PHONE;
  const browser = await puppeteer.launch({
    executablePath: wrapper,
    headless: true,
    pipe: true,
    userDataDir: profile,
    timeout: opts.timeoutMs ?? 30_000,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_CACHE_HOME: join(home, ".cache") },
    defaultViewport: { width: vp.width, height: vp.height, deviceScaleFactor: 1, isMobile: vp.mobile ?? false, hasTouch: vp.mobile ?? false },
    args: [
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-domain-reliability",
      "--disable-sync",
      "--no-pings",
      "--metrics-recording-only",
      "--password-store=basic",
      "--use-mock-keychain",
    ],
  });
  running.set(browser, { pid: browser.process()?.pid, profile, log });
  try {
    log(`[browser] chromium ${await browser.version()} up in ${opts.ns} in ${since(t0)} ms (CA certificates trusted: ${opts.caPem === null ? 0 : pemBlocks(opts.caPem).length})`);
  } catch (e) {
    await closeBrowser(browser);
    throw e;
  }
  return browser;
}

/** Pids of the browser's process group and of any process naming its profile (a child that left the group). */
function browserPids(r: Running): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const pgrp = Number(fields[2]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if ((r.pid !== undefined && pgrp === r.pid) || cmd.includes(r.profile)) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Closes the browser (5 s grace), then SIGKILLs whatever of it still runs. Throws if a process survives. Safe to call twice. */
export async function closeBrowser(browser: Browser): Promise<void> {
  const r = running.get(browser);
  running.delete(browser);
  if (!r) return;
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([browser.close().catch(() => undefined), new Promise((res) => (timer = setTimeout(res, 5000)))]);
  clearTimeout(timer);
  let left = browserPids(r);
  for (let i = 0; left.length && i < 40; i++) {
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
    await new Promise((res) => setTimeout(res, 50));
    left = browserPids(r);
  }
  if (left.length) throw new Error(`chromium processes survive SIGKILL: ${left.join(" ")}`);
  r.log(`[browser] closed in ${since(t0)} ms`);
}

/** Runs `fn` with a launched browser and closes it afterwards, whatever happens. */
export async function withBrowser<T>(opts: BrowserOptions, fn: (b: Browser) => Promise<T>): Promise<T> {
  const browser = await launchBrowser(opts);
  try {
    return await fn(browser);
  } finally {
    await closeBrowser(browser);
  }
}

/** The page-side view of the contract (no DOM typings in this project: the evaluated functions see only this). */
interface PageGlobals {
  lrConsole?: { state: string; screen: string; text: string; termText(): string };
  devicePixelRatio: number;
  document: {
    querySelector(sel: string): {
      getBoundingClientRect(): Box;
      click(): void;
      textContent: string | null;
      offsetParent: unknown;
    } | null;
    body: { innerText: string } | null;
  };
}

/** Reads the page's own account of itself (see ShotFacts). */
async function pageFacts(page: Page, kind: ConsoleKind): Promise<Omit<ShotFacts, "ms">> {
  const sel = kind === "screen" ? "#screen canvas" : "#text";
  const seen = await page
    .evaluate((selector: string) => {
      const w = globalThis as unknown as PageGlobals;
      const c = w.lrConsole;
      let termText = "";
      try {
        termText = c ? String(c.termText()) : "";
      } catch (e) {
        termText = `termText() threw: ${String(e)}`;
      }
      const el = w.document.querySelector(selector);
      const r = el && el.offsetParent !== null ? el.getBoundingClientRect() : null;
      const dpr = w.devicePixelRatio || 1;
      return {
        console: c ? { state: String(c.state), screen: String(c.screen), text: String(c.text), termText } : null,
        region: r && r.width > 0 && r.height > 0 ? { x: r.x * dpr, y: r.y * dpr, width: r.width * dpr, height: r.height * dpr } : null,
        pageText: (w.document.body?.innerText ?? "").slice(0, 600),
      };
    }, sel)
    .catch((e: Error) => ({ console: null, region: null, pageText: `(page unreadable: ${e.message})` }));
  return { kind, url: page.url(), ...seen };
}

/** One line about what the page showed, for failure messages. */
export function describeFacts(f: Omit<ShotFacts, "ms" | "kind"> | ShotFacts): string {
  const c = f.console;
  const cons = c ? `lrConsole state=${c.state} screen=${c.screen} text=${c.text} termText=${JSON.stringify(c.termText.slice(0, 200))}` : "no window.lrConsole";
  return `${f.url}: ${cons}; page text: ${JSON.stringify(f.pageText.slice(0, 400))}`;
}

async function consoleState(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).lrConsole?.state ?? "absent").catch(() => "unreadable");
}

/**
 * Opens `url` in a new page, types `password` into #password and clicks #login; resolves once lrConsole.state leaves
 * "login". Throws, with what the page showed, when the page does not load (a certificate error, say) or never answers.
 */
export async function consoleSession(browser: Browser, url: string, password: string, timeoutMs = 15_000): Promise<ConsoleSession> {
  const log = running.get(browser)?.log ?? stdoutLog;
  const page = await browser.newPage();
  const t0 = Date.now();
  try {
    await page.goto(url, { waitUntil: "load", timeout: timeoutMs });
    await page.waitForSelector("#password", { visible: true, timeout: timeoutMs });
  } catch (e) {
    const f = await pageFacts(page, "screen");
    throw new Error(`console page ${url} did not load: ${(e as Error).message}\n  seen: ${describeFacts(f)}`);
  }
  const load = since(t0);
  const t1 = Date.now();
  try {
    await page.type("#password", password);
    await page.click("#login");
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as PageGlobals).lrConsole?.state;
      return s !== undefined && s !== "login";
    }, { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    const f = await pageFacts(page, "screen");
    throw new Error(`login on ${url} got no answer: ${(e as Error).message}\n  seen: ${describeFacts(f)}`);
  }
  const login = since(t1);
  const state = await consoleState(page);
  if (!["ready", "refused", "locked", "error"].includes(state)) throw new Error(`login on ${url}: lrConsole.state ${JSON.stringify(state)} is not in the contract`);
  const refusal = await page.$eval("#refusal", (el) => {
    const e = el as unknown as { textContent: string | null; offsetParent: unknown };
    return e.offsetParent !== null ? (e.textContent ?? "").trim() : "";
  }).catch(() => "");
  log(`[browser] ${url}: page loaded in ${load} ms, login answered "${state}" in ${login} ms`);
  return { page, loginResult: state as LoginState, refusal, ms: { load, login } };
}

/** Saves the viewport as PNG `file` and its sidecar `<file>.json` as it is now, without waiting for anything. */
export async function snapshot(page: Page, file: string, kind: ConsoleKind, t0 = Date.now()): Promise<Shot> {
  await page.screenshot({ path: file as `${string}.png`, type: "png" });
  const facts: ShotFacts = { ...(await pageFacts(page, kind)), ms: since(t0) };
  writeFileSync(`${file}.json`, `${JSON.stringify(facts, null, 2)}\n`);
  return { file, facts };
}

/** Whether the console area shows anything yet (noVNC draws into a 2-d canvas; the terminal into its element's text). */
async function hasContent(page: Page, kind: ConsoleKind): Promise<boolean> {
  if (kind === "text") return page.evaluate(() => ((globalThis as unknown as PageGlobals).lrConsole?.termText() ?? "").trim().length > 0).catch(() => false);
  return page
    .evaluate(() => {
      type Canvas = { width: number; height: number; getContext(k: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
      const c = (globalThis as unknown as PageGlobals).document.querySelector("#screen canvas") as unknown as Canvas | null;
      const ctx = c && c.width > 0 && c.height > 0 ? c.getContext("2d") : null;
      if (!c || !ctx) return false;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < d.length; i += 4 * 7) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
      return false;
    })
    .catch(() => false);
}

async function screenshotConsole(page: Page, file: string, kind: ConsoleKind, timeoutMs: number, settleMs: number): Promise<Shot> {
  const t0 = Date.now();
  const tab = kind === "screen" ? "#tab-screen" : "#tab-text";
  await page.click(tab);
  try {
    await page.waitForFunction((k: ConsoleKind) => {
      const s = (globalThis as unknown as PageGlobals).lrConsole?.[k];
      return s === "connected" || s === "failed";
    }, { timeout: timeoutMs, polling: 50 }, kind);
  } catch (e) {
    throw new Error(`${kind} console never connected: ${(e as Error).message}\n  seen: ${describeFacts(await pageFacts(page, kind))}`);
  }
  const connectedMs = since(t0);
  const f0 = await pageFacts(page, kind);
  if (f0.console?.[kind] === "failed") throw new Error(`${kind} console failed\n  seen: ${describeFacts(f0)}`);
  // Connected is not drawn: give the first frame (or the first line) a moment, then take the picture whatever it shows.
  const until = Date.now() + settleMs;
  while (Date.now() < until && !(await hasContent(page, kind))) await new Promise((r) => setTimeout(r, 100));
  const shot = await snapshot(page, file, kind, t0);
  (running.get(page.browser())?.log ?? stdoutLog)(`[browser] ${kind} console: connected in ${connectedMs} ms, screenshot ${file} after ${shot.facts.ms} ms`);
  return shot;
}

/** Switches to the graphical tab, waits for lrConsole.screen "connected" (and up to `settleMs` for a drawn frame), saves PNG `file` + sidecar. */
export function screenshotScreen(page: Page, file: string, timeoutMs = 15_000, settleMs = 5000): Promise<Shot> {
  return screenshotConsole(page, file, "screen", timeoutMs, settleMs);
}

/** Switches to the text tab, waits for lrConsole.text "connected" (and up to `settleMs` for some text), saves PNG `file` + sidecar. */
export function screenshotText(page: Page, file: string, timeoutMs = 15_000, settleMs = 5000): Promise<Shot> {
  return screenshotConsole(page, file, "text", timeoutMs, settleMs);
}

/** Share of the pixels in `box` (default: all; a box loses 2 px at each edge) farther than SHOT_LIMITS.delta from the box's most common colour. */
export function contentShare(png: PNG, box?: Box): { share: number; pixels: number; background: string } {
  // A box is taken 2 px inside its edges: a fractional CSS edge blends with the page around it.
  const inset = box ? 2 : 0;
  const x0 = Math.max(0, Math.ceil((box?.x ?? 0) + inset));
  const y0 = Math.max(0, Math.ceil((box?.y ?? 0) + inset));
  const x1 = Math.min(png.width, Math.floor(box ? box.x + box.width - inset : png.width));
  const y1 = Math.min(png.height, Math.floor(box ? box.y + box.height - inset : png.height));
  const pixels = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  if (!pixels) return { share: 0, pixels: 0, background: "none" };
  const d = png.data;
  const counts = new Uint32Array(4096); // 4 bits per channel
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      counts[((d[i] >> 4) << 8) | ((d[i + 1] >> 4) << 4) | (d[i + 2] >> 4)]++;
    }
  }
  let top = 0;
  for (let q = 1; q < counts.length; q++) if (counts[q] > counts[top]) top = q;
  const bg = [((top >> 8) & 15) * 16 + 8, ((top >> 4) & 15) * 16 + 8, (top & 15) * 16 + 8];
  let content = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > SHOT_LIMITS.delta) content++;
    }
  }
  return { share: content / pixels, pixels, background: `rgb(${bg.join(",")})` };
}

/**
 * Checks that PNG `file` (with the sidecar screenshotScreen/screenshotText/snapshot wrote) shows a working console of
 * `kind`: the page is the console (lrConsole present, state "ready", `kind` "connected"), the image is not near-uniform,
 * the console's area (noVNC canvas, terminal) has content, and for text termText() is non-empty and matches
 * `expectText` when given. Throws with everything it saw; returns the measured shares.
 */
export function assertConsoleShot(file: string, kind: ConsoleKind, expectText?: string | RegExp): { image: number; region: number } {
  const problems: string[] = [];
  if (!existsSync(`${file}.json`)) throw new Error(`${file}: no sidecar ${file}.json, so not a shot of the console helpers`);
  const facts = JSON.parse(readFileSync(`${file}.json`, "utf8")) as ShotFacts;
  let png: PNG;
  try {
    png = PNG.sync.read(readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: not a PNG (${(e as Error).message})`);
  }
  if (facts.kind !== kind) problems.push(`the shot is of the ${facts.kind} console, not ${kind}`);
  const c = facts.console;
  if (!c) problems.push("not the console page (no window.lrConsole: an error page?)");
  else {
    if (c.state !== "ready") problems.push(`lrConsole.state is ${JSON.stringify(c.state)}, not "ready"`);
    if (c[kind] !== "connected") problems.push(`lrConsole.${kind} is ${JSON.stringify(c[kind])}, not "connected"`);
    if (kind === "text" && !c.termText.trim()) problems.push("termText() is empty");
    if (kind === "text" && expectText !== undefined && !(typeof expectText === "string" ? c.termText.includes(expectText) : expectText.test(c.termText))) {
      problems.push(`termText() does not contain ${String(expectText)}`);
    }
  }
  const image = contentShare(png);
  if (image.share < SHOT_LIMITS.minImageShare) problems.push(`image is near-uniform: ${(image.share * 100).toFixed(2)}% of ${image.pixels} pixels differ from ${image.background} (need ${SHOT_LIMITS.minImageShare * 100}%)`);
  let region = { share: 0, pixels: 0, background: "none" };
  if (!facts.region) problems.push(`the ${kind === "screen" ? "noVNC canvas (#screen canvas)" : "terminal (#text)"} is absent or hidden`);
  else {
    region = contentShare(png, facts.region);
    const b = facts.region;
    const where = `${Math.round(b.width)}x${Math.round(b.height)} at ${Math.round(b.x)},${Math.round(b.y)}`;
    if (region.pixels < SHOT_LIMITS.minRegionPixels) problems.push(`the console area ${where} has only ${region.pixels} pixels on the image`);
    else if (region.share < SHOT_LIMITS.minRegionShare) problems.push(`the console area ${where} is blank: ${(region.share * 100).toFixed(2)}% differ from ${region.background} (need ${SHOT_LIMITS.minRegionShare * 100}%)`);
  }
  if (problems.length) throw new Error(`${file} is not a working ${kind} console:\n  - ${problems.join("\n  - ")}\n  seen: ${describeFacts(facts)}`);
  return { image: image.share, region: region.share };
}
