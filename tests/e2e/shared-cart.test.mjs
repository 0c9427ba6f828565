// The page in web/, in headless Chromium, as two users in two browser contexts: one shares a
// cart and adds to it, the other sees the lines appear without reloading, and the other way round.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const localBin = process.env.LOCAL_BIN || join(here, "../../target/debug/local");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT = 10_000;
// Screenshots of each step, kept for a person to look at after the run.
const shots = process.env.E2E_SCREENSHOTS || join(here, "../../target/e2e-screenshots");

let stack, browser, base;

// Starts the local stack on a free port with `env` added to its environment; resolves to the
// process, its address and a `stop()` that ends it and removes its data.
async function startStack(env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "shared-carts-e2e-"));
  const process_ = spawn(localBin, ["--port", "0", "--data-dir", dataDir], { env: { ...process.env, RUST_LOG: "warn", ...env } });
  const address = await new Promise((resolve, reject) => {
    let seen = "";
    process_.stdout.on("data", (chunk) => {
      seen += chunk;
      const found = seen.match(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
      if (found) resolve(found[1]);
    });
    process_.on("exit", (code) => reject(new Error(`the local stack exited with ${code}: ${seen}`)));
    setTimeout(() => reject(new Error(`the local stack did not start: ${seen}`)), WAIT);
  });
  const stop = () => {
    process_.kill("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { address, stop };
}

before(async () => {
  stack = await startStack();
  base = stack.address;
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
  stack?.stop();
});

async function signedIn(name, at = base) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(at);
  await page.fill("#user-name", name);
  await page.click("#sign-in button");
  await page.waitForSelector("#live.on", { timeout: WAIT });
  return page;
}

// The owner's page makes a cart and shares it with bob as an editor.
async function cartSharedWithBob(owner) {
  await owner.click("#create-cart");
  await owner.waitForSelector("#cart-panel:not([hidden])", { timeout: WAIT });
  await owner.fill("#share-with", "bob");
  await owner.selectOption("#share-role", "editor");
  await owner.click("#share button");
  await owner.waitForFunction(() => document.querySelector("#members").textContent.includes("bob (editor)"), null, { timeout: WAIT });
}

test("a change by one member appears live at the other, with who made it", async () => {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");

  await cartSharedWithBob(alice);

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

test("a group order: the owner invites two by link, both join and add, each sees who is here, the owner locks (the others see it and cannot edit) and checks out; the guests are told of both", async () => {
  mkdirSync(shots, { recursive: true });
  const shoot = (page, step) => page.screenshot({ path: join(shots, `group-${step}.png`), fullPage: true });
  // Display names as an issuer gives them: the page shows names, never ids (dana-lee).
  const dana = await signedIn("Dana Lee");

  await dana.click("#create-cart");
  await dana.waitForSelector("#inviting:not([hidden])", { timeout: WAIT });
  await dana.click("#create-invite");
  await dana.waitForSelector("#invite-url:not([hidden])", { timeout: WAIT });
  const link = await dana.inputValue("#invite-url");
  assert.match(link, /\?invite=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
  await shoot(dana, "1-owner-made-a-link");

  // Each guest opens the link, signs in, sees whose cart it is and joins with one click.
  const guests = [];
  for (const [name, item] of [["Erin Park", "coffee"], ["Finn Ode", "bread"]]) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(link);
    await page.fill("#user-name", name);
    await page.click("#sign-in button");
    await page.waitForSelector("#invite-panel:not([hidden])", { timeout: WAIT });
    assert.match(await page.textContent("#invite-summary"), /Dana Lee invites you to their cart as editor/);
    await shoot(page, `2-${name.split(" ")[0].toLowerCase()}-is-invited`);
    await page.click("#join");
    await page.waitForSelector("#cart-panel:not([hidden])", { timeout: WAIT });
    await page.selectOption("#catalog", item);
    await page.click("#add-item button");
    const line = await dana.waitForSelector(`#lines tr[data-item-id="${item}"]`, { timeout: WAIT });
    assert.match(await line.textContent(), new RegExp(name), "a line shows who added it by name");
    guests.push(page);
  }
  const [erin, finn] = guests;
  await erin.waitForSelector('#lines tr[data-item-id="bread"]', { timeout: WAIT });
  await dana.waitForFunction(() => document.querySelector("#members").textContent.includes("Finn Ode"), null, { timeout: WAIT });
  assert.match(await dana.textContent("#members"), /Dana Lee \(owner\), Erin Park \(editor\), Finn Ode \(editor\)/);
  assert.match(await dana.textContent("#invites"), /used 2/);
  await shoot(dana, "3-both-joined-and-added");

  // Presence: each sees who else has the cart open, by name, without reloading.
  const hereNow = (page, text) => page.waitForFunction((t) => document.querySelector("#viewers").textContent === t, text, { timeout: WAIT });
  await hereNow(erin, "you, Dana Lee, Finn Ode");
  await hereNow(dana, "you, Erin Park, Finn Ode");
  await shoot(erin, "3-a-guest-sees-who-is-here");

  // The owner lets editors lock too: Erin's page offers her the lock at once.
  assert.equal(await erin.isVisible("#lock"), false, "only the owner locks at first");
  await dana.selectOption("#who-may-lock", "editors");
  await erin.waitForSelector("#lock:not([hidden])", { timeout: WAIT });

  await dana.click("#lock");
  for (const guest of guests) {
    await guest.waitForSelector("#lock-state:not([hidden])", { timeout: WAIT });
    assert.match(await guest.textContent("#lock-state"), /Locked for checkout by Dana Lee until/);
    assert.equal(await guest.isDisabled("#add-item button"), true, "the page turns the line controls off");
  }
  await shoot(erin, "4-a-guest-sees-the-lock");

  // Past the page: the API itself refuses the edit, naming who holds the cart.
  const refused = await finn.evaluate(async () => {
    const response = await fetch(`/carts/${state.cart.cartId}/items`, {
      method: "POST",
      headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ itemId: "coffee", quantity: 1 }),
    });
    return { status: response.status, body: await response.json() };
  });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "CART_LOCKED");
  assert.equal(refused.body.lockedBy, "dana-lee");

  await dana.click("#checkout");
  for (const guest of guests) {
    await guest.waitForFunction(() => document.querySelector("#cart-status").textContent.includes("CHECKED_OUT"), null, { timeout: WAIT });
    assert.equal(await guest.isVisible("#lock-state"), false);
  }
  await shoot(finn, "5-a-guest-sees-the-checkout");

  // Each guest is told of the lock and the checkout. They had the page open, so nothing was
  // mailed: the list says they saw it live.
  for (const guest of guests) {
    await guest.waitForFunction(() => document.querySelector('#notifications li[data-topic="checkedOut"]'), null, { timeout: WAIT });
    const listed = await guest.textContent("#notifications");
    assert.match(listed, /Dana Lee checked out Dana Lee's cart \(seen live\)/);
    assert.match(listed, /Dana Lee locked Dana Lee's cart for checkout \(seen live\)/);
  }
  assert.equal(await dana.locator("#notifications li").count(), 0, "nobody is told of what they did");
  await shoot(erin, "5-a-guest-is-told-of-the-lock-and-the-checkout");

  // Finn closes his tab: the others see him go.
  await finn.context().close();
  await hereNow(dana, "you, Erin Park");
  await hereNow(erin, "you, Dana Lee");
  await shoot(dana, "6-the-owner-sees-who-left");
});

test("API Gateway cuts every connection at its maximum duration (here 3 s): the page connects again, subscribes again and shows what another member added meanwhile", async () => {
  const cutting = await startStack({ WS_MAX_CONNECTION_SECONDS: "3" });
  try {
    const alice = await signedIn("alice", cutting.address);
    const bob = await signedIn("bob", cutting.address);
    await cartSharedWithBob(alice);
    const cartId = await alice.evaluate(() => state.cart.cartId);

    // The cut: alice's page is offline until it has waited (a random part of half a second)
    // and connected again. Bob adds in that gap; if the page was back first, the next cut is
    // tried with another item, so the add the page shows is one it could only learn by
    // subscribing again.
    const add = (item) => bob.evaluate(async ([cart, itemId]) => {
      const response = await fetch(`/carts/${cart}/items`, {
        method: "POST",
        headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ itemId, quantity: 1 }),
      });
      return response.status;
    }, [cartId, item]);
    let addedWhileAway = null;
    for (const item of ["coffee", "bread", "milk", "eggs", "pasta"]) {
      await alice.waitForSelector("#live:not(.on)", { timeout: WAIT });
      assert.equal(await add(item), 200);
      const away = await alice.evaluate(() => !document.querySelector("#live").classList.contains("on"));
      await alice.waitForSelector("#live.on", { timeout: WAIT });
      if (away) {
        addedWhileAway = item;
        break;
      }
    }
    assert.ok(addedWhileAway, "one of five adds landed while the page was cut off");
    const line = await alice.waitForSelector(`#lines tr[data-item-id="${addedWhileAway}"]`, { timeout: WAIT });
    assert.match(await line.textContent(), /bob/);
  } finally {
    cutting.stop();
  }
});

test("a page whose socket opens and is closed at once (a server that accepts and drops it) tries again after waits that double, 0.5 s, 1 s, 2 s at the top of their random range, not every half second", async () => {
  const page = await signedIn("alice");
  // From now on every socket the page opens is accepted by the browser's route and closed at
  // once. Each try is recorded, and the random part of each wait pinned to the top of its range,
  // so the waits are the ceilings themselves.
  await page.routeWebSocket(/\/ws/, (socket) => { setTimeout(() => socket.close(), 20); });
  await page.evaluate(() => {
    window.tries = [];
    window.closes = [];
    window.opened = 0;
    const Real = WebSocket;
    window.WebSocket = class extends Real {
      constructor(...args) {
        super(...args);
        window.tries.push(performance.now());
        this.addEventListener("open", () => { window.opened += 1; });
        this.addEventListener("close", () => { window.closes.push(performance.now()); });
      }
    };
    Math.random = () => 0.999;
    state.socket.addEventListener("close", () => { window.closes.push(performance.now()); });
    state.socket.close();
  });
  await page.waitForFunction(() => window.tries.length >= 3, null, { timeout: WAIT });
  const [closes, tries, opened] = await page.evaluate(() => [window.closes, window.tries, window.opened]);
  assert.ok(opened >= 2, `the routed sockets open before they close (${opened} opened)`);
  // From each close to the next try: the wait alone, give or take a late timer.
  const waits = [0, 1, 2].map((i) => tries[i] - closes[i]);
  for (const [wait, ceiling] of waits.map((wait, i) => [wait, 500 * 2 ** i])) {
    assert.ok(wait >= ceiling * 0.99 && wait < ceiling + 400, `waits ${waits.map(Math.round)} ms, wanted about 500, 1000, 2000`);
  }
  await page.context().close();
});
