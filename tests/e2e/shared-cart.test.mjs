// The page in web/, in headless Chromium, as two users in two browser contexts: one shares a
// cart and adds to it, the other sees the lines appear without reloading, and the other way round.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const localBin = process.env.LOCAL_BIN || join(here, "../../target/debug/local");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT = 10_000;

let stack, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "shared-carts-e2e-"));
  stack = spawn(localBin, ["--port", "0", "--data-dir", dataDir], { env: { ...process.env, RUST_LOG: "warn" } });
  base = await new Promise((resolve, reject) => {
    let seen = "";
    stack.stdout.on("data", (chunk) => {
      seen += chunk;
      const found = seen.match(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
      if (found) resolve(found[1]);
    });
    stack.on("exit", (code) => reject(new Error(`the local stack exited with ${code}: ${seen}`)));
    setTimeout(() => reject(new Error(`the local stack did not start: ${seen}`)), WAIT);
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // As root, without GPU, and without Chromium reaching for the network at start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  stack?.kill("SIGINT");
  rmSync(dataDir, { recursive: true, force: true });
});

async function signedIn(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  await page.fill("#user-name", name);
  await page.click("#sign-in button");
  await page.waitForSelector("#live.on", { timeout: WAIT });
  return page;
}

test("a change by one member appears live at the other, with who made it", async () => {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");

  await alice.click("#create-cart");
  await alice.waitForSelector("#cart-panel:not([hidden])", { timeout: WAIT });
  await alice.fill("#share-with", "bob");
  await alice.selectOption("#share-role", "editor");
  await alice.click("#share button");
  await alice.waitForFunction(() => document.querySelector("#members").textContent.includes("bob (editor)"), null, { timeout: WAIT });

  // Bob never reloads: the shared cart shows up in his list from the push.
  await bob.waitForSelector("#carts li", { timeout: WAIT });
  await bob.click("#carts li");
  await bob.waitForSelector("#cart-panel:not([hidden])", { timeout: WAIT });

  await alice.selectOption("#catalog", "coffee");
  await alice.click("#add-item button");
  const coffee = await bob.waitForSelector('#lines tr[data-item-id="coffee"]', { timeout: WAIT });
  assert.match(await coffee.textContent(), /alice/);

  await bob.selectOption("#catalog", "bread");
  await bob.fill("#quantity", "2");
  await bob.click("#add-item button");
  const bread = await alice.waitForSelector('#lines tr[data-item-id="bread"]', { timeout: WAIT });
  assert.match(await bread.textContent(), /bob/);
  assert.match(await alice.textContent("#activity"), /bob: CartItemAdded/);
  assert.equal(await alice.textContent("#cart-version"), await bob.textContent("#cart-version"));
});
