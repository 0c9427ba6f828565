// The shared-carts page: sign in as anyone (local dev tokens), see your carts, edit one, share
// it, and watch other members' changes arrive over the WebSocket. No build step, no framework.
"use strict";

const state = { token: null, user: null, socket: null, carts: [], cart: null, catalog: [], lapse: null, viewers: [], noticesDue: null };

// How often the open cart is subscribed to again: it tells the server this page still has it
// open (a viewer not seen for 90 seconds is no longer listed) and reads who else has.
const PRESENCE_REFRESH_MS = 30 * 1000;
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

// A member's display name, as the cart knows it, or their id.
function nameIn(members, userId) {
  const member = (members || []).find((m) => m.userId === userId);
  return (member && member.name) || userId;
}

// What a notice says, and what became of its mail.
const TOPICS = {
  added: (who, whose) => `${who} added you to ${whose}`,
  locked: (who, whose) => `${who} locked ${whose} for checkout`,
  checkedOut: (who, whose) => `${who} checked out ${whose}`,
  stockShort: (who, whose) => `some items in ${whose} were out of stock at checkout`,
};
const MAILINGS = {
  pending: "mailing", sent: "mailed", connected: "seen live", optedOut: "mails off",
  noEmail: "no email on file", rateLimited: "not mailed: enough this hour", rejected: "mail refused",
  noMailService: "not mailed",
};

// The notifications the server kept for this user, newest first, and the mail setting.
async function loadNotifications() {
  const { mailsOff, items } = await api("GET", "/me/notifications");
  $("mails-on").checked = !mailsOff;
  $("notifications").replaceChildren(...items.map((n) => {
    const item = document.createElement("li");
    item.dataset.topic = n.topic;
    const who = n.actor === state.user ? "you" : n.actorName || n.actor;
    const whose = n.ownerName ? `${n.ownerName}'s cart` : "a shared cart";
    const said = TOPICS[n.topic] ? TOPICS[n.topic](who, whose) : `${n.topic} in ${whose}`;
    item.textContent = `${new Date(n.occurredAt).toLocaleTimeString()}  ${said} (${MAILINGS[n.mailing] || n.mailing})`;
    item.onclick = () => openCart(n.cartId).catch(showError);
    return item;
  }));
}

// The notify consumer records notices beside the push, not before it: read them a moment later.
function loadNotificationsSoon() {
  clearTimeout(state.noticesDue);
  state.noticesDue = setTimeout(() => loadNotifications().catch(showError), 700);
}

function note(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("activity").prepend(item);
}

// A development sign-in: the name as typed is the display name, and the user id is made from it
// ("Dana Lee" is dana-lee), as an issuer would give an id and a name.
async function signIn(name) {
  const userId = name.toLowerCase().replace(/[^a-z0-9._@-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 128);
  if (!userId) throw new Error("type a name with a letter or a digit in it");
  const response = await fetch("/dev/token", { method: "POST", body: JSON.stringify({ userId, name }) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail);
  Object.assign(state, { token: data.token, user: userId, name });
  $("who").textContent = `signed in as ${name}`;
  $("who").hidden = false;
  $("sign-in").hidden = true;
  document.querySelector("main").hidden = false;
  // The sign-in: the server keeps this user's profile, so others can share with them by name.
  await api("GET", "/me");
  state.catalog = (await api("GET", "/items?limit=100")).items;
  $("catalog").replaceChildren(...state.catalog.map((i) => new Option(`${i.name} (${money(i.price, i.currency)})`, i.itemId)));
  connect();
  await loadCarts();
  // The list is not worth failing the sign-in for.
  loadNotifications().catch(showError);
  await showInvite();
  await showCart();
}

// An invite link is the page with ?invite=<token>: once signed in, show whose cart it opens and
// join with one click.
async function showInvite() {
  const token = new URLSearchParams(location.search).get("invite");
  if (!token) return;
  try {
    const invite = await api("GET", `/invites/${encodeURIComponent(token)}`);
    $("invite-summary").textContent = invite.alreadyMember
      ? `You are already in ${invite.ownerName || invite.ownerId}'s cart.`
      : `${invite.ownerName || invite.ownerId} invites you to their cart as ${invite.role} (${invite.memberCount} in it, ${invite.itemCount} items). The link works until ${new Date(invite.expiresAt).toLocaleString()}.`;
    $("join").hidden = invite.alreadyMember;
    $("invite-panel").hidden = false;
    $("join").onclick = () => act(async () => {
      const cart = await api("POST", `/invites/${encodeURIComponent(token)}/accept`);
      $("invite-panel").hidden = true;
      history.replaceState(null, "", location.pathname);
      await loadCarts();
      await openCart(cart.cartId);
    });
    if (invite.alreadyMember) {
      history.replaceState(null, "", location.pathname);
      await openCart(invite.cartId);
    }
  } catch (error) {
    // A link that no longer works is of no use in the address bar either.
    history.replaceState(null, "", location.pathname);
    showError(error);
  }
}

// A notification mail links to the page with ?cart=<id>: once signed in, open that cart.
async function showCart() {
  const cartId = new URLSearchParams(location.search).get("cart");
  if (!cartId) return;
  history.replaceState(null, "", location.pathname);
  await openCart(cartId).catch(showError);
}

// The owner's invite links: create one, copy it, see each one's uses and revoke it.
async function loadInvites(cart) {
  const owner = cart.ownerId === state.user;
  $("inviting").hidden = !owner || cart.status === "CHECKED_OUT";
  if ($("inviting").hidden) return;
  const { invites } = await api("GET", `/carts/${cart.cartId}/invites`);
  $("invites").replaceChildren(...invites.map((invite) => {
    const item = document.createElement("li");
    item.dataset.inviteId = invite.inviteId;
    const uses = invite.maxUses ? `${invite.uses} of ${invite.maxUses}` : `${invite.uses}`;
    item.textContent = `link for ${invite.role}s · ${invite.state} · used ${uses} · until ${new Date(invite.expiresAt).toLocaleDateString()} `;
    if (invite.state === "open") {
      const revoke = document.createElement("button");
      revoke.textContent = "Revoke";
      revoke.onclick = () => act(async () => {
        await api("DELETE", `/carts/${cart.cartId}/invites/${invite.inviteId}`);
        await loadInvites(state.cart);
      });
      item.append(revoke);
    }
    return item;
  }));
}

// API Gateway closes every WebSocket after two hours, and a deploy or a network change closes
// them all at once. A closed socket is opened again after a random wait below a ceiling that
// doubles with each try that fails (from half a second up to 30 s): pages that lost their
// sockets together do not come back in the same instant. Once open, it subscribes again, and
// the snapshot that answers brings whatever changed meanwhile. A socket that opens is not yet
// a try that worked (a server that accepts and closes at once would be retried every half
// second): the ceiling starts over once the socket brings a message that is not an error, or
// stays open 10 s.
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MOST_MS = 30 * 1000;
const RECONNECT_PROVEN_MS = 10 * 1000;
let reconnects = 0;
let cutOff = false;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  let proven = null;
  socket.onopen = () => {
    $("live").classList.add("on");
    if (cutOff) loadCarts().catch(showError);
    cutOff = false;
    proven = setTimeout(() => { reconnects = 0; }, RECONNECT_PROVEN_MS);
    subscribe();
  };
  socket.onclose = () => {
    $("live").classList.remove("on");
    clearTimeout(proven);
    cutOff = true;
    const ceiling = Math.min(RECONNECT_MOST_MS, RECONNECT_FIRST_MS * 2 ** reconnects);
    reconnects += 1;
    setTimeout(connect, Math.random() * ceiling);
  };
  socket.onmessage = (frame) => {
    const message = JSON.parse(frame.data);
    // One of ours (API Gateway's own errors have no type): the server behind the socket works.
    if (typeof message.type === "string" && message.type !== "error") reconnects = 0;
    onMessage(message);
  };
}

// API Gateway also closes a socket after ten minutes in which the page sent nothing, and the
// server forgets it after nine to ten: every page pings, which a page that shows no cart (and
// so does not subscribe) needs.
const PING_MS = 5 * 60 * 1000;
setInterval(() => {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ action: "ping" }));
  }
}, PING_MS);

// Subscribes to the open cart: its snapshot and who has it open come back.
function subscribe() {
  if (state.cart && state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ action: "subscribe", cartId: state.cart.cartId }));
  }
}
setInterval(() => {
  subscribe();
  if (state.token) loadNotifications().catch(showError);
}, PRESENCE_REFRESH_MS);

// Who has the open cart open now, by name, you first.
function renderViewers() {
  const others = state.viewers.filter((id) => id !== state.user);
  const names = others.map((id) => nameIn(state.cart && state.cart.members, id));
  $("viewers").textContent = (state.viewers.includes(state.user) ? ["you", ...names] : names).join(", ") || "nobody";
}

async function onMessage(message) {
  if (message.type === "snapshot" && state.cart && message.cartId === state.cart.cartId) {
    if (message.version >= state.cart.version) render(message.cart);
    state.viewers = message.viewers || [];
    renderViewers();
  } else if (message.type === "presence") {
    if (state.cart && message.cartId === state.cart.cartId) {
      state.viewers = message.viewers;
      renderViewers();
    }
  } else if (message.type === "change") {
    const members = (message.cart && message.cart.members) || (state.cart && state.cart.cartId === message.cartId ? state.cart.members : []);
    const actor = message.actor === state.user ? "you" : nameIn(members, message.actor);
    note(`${actor}: ${message.event} (version ${message.version})`);
    // Drop what is not newer than the open cart; re-read on a gap or when the snapshot did not fit.
    if (state.cart && message.cartId === state.cart.cartId && message.version > state.cart.version) {
      if (message.snapshotOmitted || message.version > state.cart.version + 1) {
        render(await api("GET", `/carts/${message.cartId}`), true);
      } else {
        // Only membership changes carry the member list; otherwise the one held is current.
        render({ ...message.cart, members: message.cart.members ?? state.cart.members }, true);
      }
      // A join used one of the owner's links: its count moved.
      if (message.event === "CartJoined") await loadInvites(state.cart);
    }
    if (["CartShared", "CartLocked", "CartCheckedOut"].includes(message.event)) loadNotificationsSoon();
    await loadCarts();
  } else if (message.type === "removed") {
    note(`${message.actor} removed you from a cart`);
    if (state.cart && state.cart.cartId === message.cartId) {
      state.cart = null;
      $("cart-panel").hidden = true;
      // The server ends a removed member's presence; this covers a subscribe it raced.
      state.socket.send(JSON.stringify({ action: "unsubscribe", cartId: message.cartId }));
    }
    await loadCarts();
  } else if (message.type === "shortfall") {
    // Not a change to the cart (its version is the checkout's): another checkout took the stock.
    const lines = message.shortages.map((s) => `${s.itemId} (${s.available} of ${s.requested} left)`);
    note(`stock ran short after checkout: ${lines.join(", ")}`);
    loadNotificationsSoon();
  } else if (message.type === "error" && message.code === "UNAUTHENTICATED") {
    // The server no longer knows this connection (it was quiet too long): connect again.
    state.socket.close();
  } else if (message.type === "error") {
    showError(message.detail);
  }
}

async function loadCarts() {
  state.carts = (await api("GET", "/me/carts")).carts;
  $("carts").replaceChildren(...state.carts.map((c) => {
    const item = document.createElement("li");
    item.dataset.cartId = c.cartId;
    item.textContent = `${c.ownerName || c.ownerId}'s cart · ${c.itemCount} items · ${money(c.total, c.currency)} · ${c.role}`;
    if (state.cart && state.cart.cartId === c.cartId) item.classList.add("current");
    item.onclick = () => openCart(c.cartId);
    return item;
  }));
}

async function openCart(cartId) {
  if (!state.cart || state.cart.cartId !== cartId) state.viewers = [];
  render(await api("GET", `/carts/${cartId}`));
  $("invite-url").hidden = $("copy-invite").hidden = true;
  await loadInvites(state.cart);
  subscribe();
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
    for (const text of [line.name, line.quantity, money(line.lineTotal, cart.currency), line.addedByName || line.addedBy]) {
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
  $("members").textContent = cart.members.map((m) => `${m.name || m.userId} (${m.role})`).join(", ");
  renderViewers();
  renderLock(cart);
  // An ordered cart takes no more invites, whoever's push said so.
  if (cart.status === "CHECKED_OUT") $("inviting").hidden = true;
}

// The checkout lock: who holds the cart and until when, the owner's buttons, and the line
// controls off while it holds. A lock nobody releases lapses at expiresAt without an event, so
// the page re-reads the cart then.
function renderLock(cart) {
  const lock = cart.status === "LOCKED" ? cart.lock : null;
  const owner = cart.ownerId === state.user;
  const until = lock ? new Date(lock.expiresAt) : null;
  $("lock-state").hidden = !lock;
  $("lock-state").textContent = lock
    ? `Locked for checkout by ${lock.lockedBy === state.user ? "you" : nameIn(cart.members, lock.lockedBy)} until ${until.toLocaleTimeString()}`
    : "";
  const role = (cart.members.find((m) => m.userId === state.user) || {}).role;
  const mayLock = owner || (role === "editor" && cart.whoMayLock === "editors");
  $("lock").hidden = !mayLock || cart.status !== "ACTIVE";
  // The owner's setting: who besides them may lock.
  $("lock-setting").hidden = !owner || cart.status === "CHECKED_OUT";
  $("who-may-lock").value = cart.whoMayLock || "owner";
  $("unlock").hidden = !lock || !(owner || lock.lockedBy === state.user);
  const frozen = cart.status !== "ACTIVE";
  for (const control of document.querySelectorAll("#add-item button, #lines button")) control.disabled = frozen;
  $("checkout").disabled = Boolean(lock) && !(owner || lock.lockedBy === state.user);
  clearTimeout(state.lapse);
  if (lock) {
    state.lapse = setTimeout(() => openCart(cart.cartId).catch(showError), Math.max(0, until - Date.now()) + 500);
  }
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
  // An address goes by email; anything else is a user id.
  const who = $("share-with").value.trim();
  const named = who.includes("@") ? { emails: [who] } : { userIds: [who] };
  act(() => api("POST", `/carts/${state.cart.cartId}/members`, { ...named, role: $("share-role").value }));
};
$("create-invite").onclick = () => act(async () => {
  const invite = await api("POST", `/carts/${state.cart.cartId}/invites`, { role: $("invite-role").value });
  $("invite-url").value = invite.url;
  $("invite-url").hidden = $("copy-invite").hidden = false;
  await loadInvites(state.cart);
});
$("copy-invite").onclick = () => navigator.clipboard.writeText($("invite-url").value).then(() => note("invite link copied"), showError);
$("mails-on").onchange = () => act(async () => {
  await api("PUT", "/me/notification-settings", { mailsOff: !$("mails-on").checked });
  await loadNotifications();
});
$("who-may-lock").onchange = () => act(() => api("PUT", `/carts/${state.cart.cartId}/settings`, { whoMayLock: $("who-may-lock").value }));
$("lock").onclick = () => act(() => api("POST", `/carts/${state.cart.cartId}/lock`));
$("unlock").onclick = () => act(() => api("DELETE", `/carts/${state.cart.cartId}/lock`));
$("checkout").onclick = () => act(() => api("POST", `/carts/${state.cart.cartId}/checkout`));
