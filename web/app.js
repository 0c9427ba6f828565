// The shared-carts page: sign in as anyone (local dev tokens), see your carts, edit one, share
// it, and watch other members' changes arrive over the WebSocket. No build step, no framework.
"use strict";

const state = { token: null, user: null, socket: null, carts: [], cart: null, catalog: [] };
const $ = (id) => document.getElementById(id);
const money = (cents, currency) => `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(data && data.detail ? data.detail : `HTTP ${response.status}`);
  return data;
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
  $("error").hidden = !error;
}

function note(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("activity").prepend(item);
}

async function signIn(name) {
  const response = await fetch("/dev/token", { method: "POST", body: JSON.stringify({ userId: name }) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail);
  Object.assign(state, { token: data.token, user: name });
  $("who").textContent = `signed in as ${name}`;
  $("who").hidden = false;
  $("sign-in").hidden = true;
  document.querySelector("main").hidden = false;
  state.catalog = (await api("GET", "/items?limit=100")).items;
  $("catalog").replaceChildren(...state.catalog.map((i) => new Option(`${i.name} (${money(i.price, i.currency)})`, i.itemId)));
  connect();
  await loadCarts();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.onopen = () => {
    $("live").classList.add("on");
    if (state.cart) socket.send(JSON.stringify({ action: "subscribe", cartId: state.cart.cartId }));
  };
  socket.onclose = () => { $("live").classList.remove("on"); setTimeout(connect, 1000); };
  socket.onmessage = (frame) => onMessage(JSON.parse(frame.data));
}

async function onMessage(message) {
  if (message.type === "snapshot" && state.cart && message.cartId === state.cart.cartId) {
    render(message.cart);
  } else if (message.type === "change") {
    const actor = message.actor === state.user ? "you" : message.actor;
    note(`${actor}: ${message.event} (version ${message.version})`);
    // Drop what is not newer than the open cart; re-read on a gap or when the snapshot did not fit.
    if (state.cart && message.cartId === state.cart.cartId && message.version > state.cart.version) {
      if (message.snapshotOmitted || message.version > state.cart.version + 1) {
        render(await api("GET", `/carts/${message.cartId}`), true);
      } else {
        // Only membership changes carry the member list; otherwise the one held is current.
        render({ ...message.cart, members: message.cart.members ?? state.cart.members }, true);
      }
    }
    await loadCarts();
  } else if (message.type === "removed") {
    note(`${message.actor} removed you from a cart`);
    if (state.cart && state.cart.cartId === message.cartId) { state.cart = null; $("cart-panel").hidden = true; }
    await loadCarts();
  } else if (message.type === "shortfall") {
    // Not a change to the cart (its version is the checkout's): another checkout took the stock.
    const lines = message.shortages.map((s) => `${s.itemId} (${s.available} of ${s.requested} left)`);
    note(`stock ran short after checkout: ${lines.join(", ")}`);
  } else if (message.type === "error") {
    showError(message.detail);
  }
}

async function loadCarts() {
  state.carts = (await api("GET", "/me/carts")).carts;
  $("carts").replaceChildren(...state.carts.map((c) => {
    const item = document.createElement("li");
    item.dataset.cartId = c.cartId;
    item.textContent = `${c.ownerId}'s cart · ${c.itemCount} items · ${money(c.total, c.currency)} · ${c.role}`;
    if (state.cart && state.cart.cartId === c.cartId) item.classList.add("current");
    item.onclick = () => openCart(c.cartId);
    return item;
  }));
}

async function openCart(cartId) {
  render(await api("GET", `/carts/${cartId}`));
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ action: "subscribe", cartId }));
  }
  await loadCarts();
}

function render(cart, changed) {
  state.cart = cart;
  $("cart-panel").hidden = false;
  $("cart-version").textContent = `v${cart.version}`;
  $("cart-status").textContent = cart.status === "ACTIVE" ? "" : cart.status;
  $("lines").replaceChildren(...cart.items.map((line) => {
    const row = document.createElement("tr");
    row.dataset.itemId = line.itemId;
    for (const text of [line.name, line.quantity, money(line.lineTotal, cart.currency), line.addedBy]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const cell = document.createElement("td");
    const remove = document.createElement("button");
    remove.textContent = "Remove";
    remove.onclick = () => act(() => api("DELETE", `/carts/${cart.cartId}/items/${line.itemId}`));
    cell.append(remove);
    row.append(cell);
    if (changed) row.classList.add("flash");
    return row;
  }));
  $("total").textContent = money(cart.total, cart.currency);
  $("members").textContent = cart.members.map((m) => `${m.userId} (${m.role})`).join(", ");
}

async function act(change) {
  try {
    showError(null);
    const cart = await change();
    if (cart && cart.cartId) render(cart);
  } catch (error) {
    showError(error);
  }
}

$("sign-in").onsubmit = (e) => { e.preventDefault(); signIn($("user-name").value.trim()).catch(showError); };
$("create-cart").onclick = () => act(async () => { const cart = await api("POST", "/carts"); await loadCarts(); await openCart(cart.cartId); });
$("add-item").onsubmit = (e) => {
  e.preventDefault();
  act(() => api("POST", `/carts/${state.cart.cartId}/items`, { itemId: $("catalog").value, quantity: Number($("quantity").value) }));
};
$("share").onsubmit = (e) => {
  e.preventDefault();
  act(() => api("POST", `/carts/${state.cart.cartId}/members`, { userIds: [$("share-with").value.trim()], role: $("share-role").value }));
};
$("checkout").onclick = () => act(() => api("POST", `/carts/${state.cart.cartId}/checkout`));
