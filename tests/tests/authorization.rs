//! The authorization matrix: every operation, REST and WebSocket, against every kind of caller,
//! from one table of designed answers. The promise: nobody sees or touches a cart they are not a
//! member of, and a stranger cannot even tell that it exists (the 404 is the one a cart that
//! does not exist gets).

use serde_json::{Value, json};
use tests::{Client, Socket, TestStack, spawn_stack_with};
use token::TokenKeys;

const SECRET: &str = "authorization-matrix-secret-0123456789abcdef";
const ISSUER: &str = "shared-carts";
const AUDIENCE: &str = "shared-carts-api";

/// Who calls: five relations to the cart, an admin who is not a member, and four bad tokens
/// (each for the owner's identity, so only the token itself is wrong).
#[derive(Clone, Copy, Debug)]
enum Who {
    Owner,
    Editor,
    Viewer,
    RemovedMember,
    Stranger,
    Admin,
    NoToken,
    ExpiredToken,
    OtherAudience,
    ForgedSignature,
}

const EVERYONE: [Who; 10] = [
    Who::Owner,
    Who::Editor,
    Who::Viewer,
    Who::RemovedMember,
    Who::Stranger,
    Who::Admin,
    Who::NoToken,
    Who::ExpiredToken,
    Who::OtherAudience,
    Who::ForgedSignature,
];

/// Every operation a caller can attempt.
#[derive(Clone, Copy, Debug)]
enum Op {
    CreateCart,
    GetCart,
    ModifyCart,
    AddItemToCart,
    RemoveItemFromCart,
    ShareCart,
    UnshareCart,
    CreateInvite,
    ListInvites,
    RevokeInvite,
    /// With the token of an invite the owner made (an editor's).
    GetInvite,
    AcceptInvite,
    LockCart,
    /// Of a cart the owner locked first.
    UnlockCart,
    /// Letting editors lock.
    UpdateCartSettings,
    CheckoutCart,
    GetUserDetails,
    ListMyCarts,
    ListNotifications,
    SetNotificationSettings,
    ListItems,
    GetItemDetails,
    UpdateItemStock,
    /// The day the fixture's changes were counted on.
    GetAnalytics,
    /// `$connect`: 101 when the socket opens.
    WsConnect,
    /// 200 with the snapshot, or 404 for an `error` with `CART_NOT_FOUND`.
    WsSubscribe,
    WsUnsubscribe,
    WsPing,
    /// `$connect` with [`MATRIX_CAP`] of the caller's connections already open: 429.
    WsConnectPastTheCap,
    /// A 200 KB message, past API Gateway's 128 KB: the socket closes with 1009.
    WsMessageTooBig,
}

/// Open WebSockets per user on the matrix's stack: small, so reaching it costs three sockets.
const MATRIX_CAP: usize = 3;

/// The designed answer of every cell, in the order of [`EVERYONE`]: owner, editor, viewer,
/// removed member, stranger, admin, no token, expired, other audience, forged. A WebSocket
/// message a caller cannot send, because its handshake was refused, reads 401.
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 10])] = &[
    (Op::CreateCart,         [201, 201, 201, 201, 201, 201, 401, 401, 401, 401]),
    (Op::GetCart,            [200, 200, 200, 404, 404, 404, 401, 401, 401, 401]),
    (Op::ModifyCart,         [200, 200, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::AddItemToCart,      [200, 200, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::RemoveItemFromCart, [200, 200, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::ShareCart,          [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::UnshareCart,        [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::CreateInvite,       [201, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::ListInvites,        [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::RevokeInvite,       [204, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::GetInvite,          [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::AcceptInvite,       [409, 409, 409, 200, 200, 200, 401, 401, 401, 401]),
    (Op::LockCart,           [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::UnlockCart,         [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::UpdateCartSettings, [200, 403, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::CheckoutCart,       [200, 200, 403, 404, 404, 404, 401, 401, 401, 401]),
    (Op::GetUserDetails,     [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::ListMyCarts,        [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::ListNotifications,  [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::SetNotificationSettings, [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::ListItems,          [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::GetItemDetails,     [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::UpdateItemStock,    [403, 403, 403, 403, 403, 200, 401, 401, 401, 401]),
    (Op::GetAnalytics,       [403, 403, 403, 403, 403, 200, 401, 401, 401, 401]),
    (Op::WsConnect,          [101, 101, 101, 101, 101, 101, 401, 401, 401, 401]),
    (Op::WsSubscribe,        [200, 200, 200, 404, 404, 404, 401, 401, 401, 401]),
    (Op::WsUnsubscribe,      [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::WsPing,             [200, 200, 200, 200, 200, 200, 401, 401, 401, 401]),
    (Op::WsConnectPastTheCap, [429, 429, 429, 429, 429, 429, 401, 401, 401, 401]),
    (Op::WsMessageTooBig,    [1009, 1009, 1009, 1009, 1009, 1009, 401, 401, 401, 401]),
];

/// What a cell's request is made on: a cart and an invite link to it.
#[derive(Clone)]
struct Target {
    cart: String,
    token: String,
    invite_id: String,
}

/// The cart every cell starts from: the owner's, with a line of coffee, an editor, a viewer, a
/// `target` viewer for unsharing, a member who was removed, and an open invite link.
async fn fixture(stack: &TestStack, owner: &str) -> Target {
    let mut client = stack.client().await;
    let created = client
        .send(
            "POST",
            "/carts",
            Some(owner),
            Some(json!({"items": [{"itemId": "coffee", "quantity": 1}]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let cart = created.body["cartId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (users, role) in [
        (json!(["editor"]), "editor"),
        (json!(["viewer", "target", "removed"]), "viewer"),
    ] {
        let shared = client
            .send(
                "POST",
                &format!("/carts/{cart}/members"),
                Some(owner),
                Some(json!({"userIds": users, "role": role})),
            )
            .await;
        assert_eq!(shared.status, 200, "{}", shared.body);
    }
    let removed = client
        .send(
            "DELETE",
            &format!("/carts/{cart}/members/removed"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let invited = client
        .send("POST", &format!("/carts/{cart}/invites"), Some(owner), None)
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let text = |field: &str| invited.body[field].as_str().unwrap_or_default().to_owned();
    Target {
        token: text("token"),
        invite_id: text("inviteId"),
        cart,
    }
}

/// The owner locks `cart` for checkout.
async fn lock(stack: &TestStack, owner: &str, cart: &str) {
    let locked = stack
        .client()
        .await
        .send("POST", &format!("/carts/{cart}/lock"), Some(owner), None)
        .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
}

/// The token `who` presents, if any.
fn token_of(who: Who, keys: &TokenKeys) -> Option<String> {
    let now = chrono::Utc::now().timestamp();
    let valid = |sub: &str, scopes: &[&str]| keys.issue(sub, None, scopes, now, 3600);
    match who {
        Who::Owner => Some(valid("owner", &[])),
        Who::Editor => Some(valid("editor", &[])),
        Who::Viewer => Some(valid("viewer", &[])),
        Who::RemovedMember => Some(valid("removed", &[])),
        Who::Stranger => Some(valid("stranger", &[])),
        Who::Admin => Some(valid("ops", &["admin"])),
        Who::NoToken => None,
        Who::ExpiredToken => Some(keys.issue("owner", None, &[], now - 7200, 3600)),
        Who::OtherAudience => {
            Some(TokenKeys::new(SECRET, ISSUER, "another-api").issue("owner", None, &[], now, 3600))
        }
        Who::ForgedSignature => Some(
            TokenKeys::new(
                "not-the-secret-not-the-secret-not-the-secret",
                ISSUER,
                AUDIENCE,
            )
            .issue("owner", None, &[], now, 3600),
        ),
    }
}

/// The request `op` makes on `cart`.
fn request(op: Op, target: &Target) -> (&'static str, String, Option<Value>) {
    let Target {
        cart,
        token,
        invite_id,
    } = target;
    match op {
        Op::CreateCart => ("POST", "/carts".into(), None),
        Op::GetCart => ("GET", format!("/carts/{cart}"), None),
        Op::ModifyCart => (
            "PATCH",
            format!("/carts/{cart}"),
            Some(json!({"changes": [{"itemId": "coffee", "quantity": 2}]})),
        ),
        Op::AddItemToCart => (
            "POST",
            format!("/carts/{cart}/items"),
            Some(json!({"itemId": "apple", "quantity": 1})),
        ),
        Op::RemoveItemFromCart => ("DELETE", format!("/carts/{cart}/items/coffee"), None),
        Op::ShareCart => (
            "POST",
            format!("/carts/{cart}/members"),
            Some(json!({"userIds": ["newcomer"], "role": "viewer"})),
        ),
        Op::UnshareCart => ("DELETE", format!("/carts/{cart}/members/target"), None),
        Op::CreateInvite => ("POST", format!("/carts/{cart}/invites"), None),
        Op::ListInvites => ("GET", format!("/carts/{cart}/invites"), None),
        Op::RevokeInvite => ("DELETE", format!("/carts/{cart}/invites/{invite_id}"), None),
        Op::GetInvite => ("GET", format!("/invites/{token}"), None),
        Op::AcceptInvite => ("POST", format!("/invites/{token}/accept"), None),
        Op::LockCart => ("POST", format!("/carts/{cart}/lock"), None),
        Op::UnlockCart => ("DELETE", format!("/carts/{cart}/lock"), None),
        Op::UpdateCartSettings => (
            "PUT",
            format!("/carts/{cart}/settings"),
            Some(json!({"whoMayLock": "editors"})),
        ),
        Op::CheckoutCart => ("POST", format!("/carts/{cart}/checkout"), None),
        Op::GetUserDetails => ("GET", "/me".into(), None),
        Op::ListMyCarts => ("GET", "/me/carts".into(), None),
        Op::ListNotifications => ("GET", "/me/notifications".into(), None),
        Op::SetNotificationSettings => (
            "PUT",
            "/me/notification-settings".into(),
            Some(json!({"mailsOff": true})),
        ),
        Op::ListItems => ("GET", "/items".into(), None),
        Op::GetItemDetails => ("GET", "/items/coffee".into(), None),
        Op::UpdateItemStock => (
            "PUT",
            "/items/coffee/stock".into(),
            Some(json!({"stock": 500})),
        ),
        Op::GetAnalytics => (
            "GET",
            format!("/analytics/days/{}", chrono::Utc::now().format("%Y-%m-%d")),
            None,
        ),
        Op::WsConnect
        | Op::WsSubscribe
        | Op::WsUnsubscribe
        | Op::WsPing
        | Op::WsConnectPastTheCap
        | Op::WsMessageTooBig => ("WS", String::new(), None),
    }
}

/// What `who` gets for `op` on `cart`: a status, and the problem or error code when refused.
async fn attempt(
    stack: &TestStack,
    op: Op,
    who: Who,
    target: &Target,
    keys: &TokenKeys,
) -> (u16, String) {
    let token = token_of(who, keys);
    let (method, path, body) = request(op, target);
    let cart = &target.cart;
    if method != "WS" {
        let reply = Client::connect(stack.addr())
            .await
            .send(method, &path, token.as_deref(), body)
            .await;
        return (reply.status, reply.code().to_owned());
    }
    let mut socket = match Socket::connect(stack.addr(), token.as_deref().unwrap_or_default()).await
    {
        Ok(socket) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return (response.status().as_u16(), String::new());
        }
        Err(e) => panic!("{op:?} as {who:?}: {e}"),
    };
    let message = match op {
        Op::WsConnect => return (101, String::new()),
        Op::WsConnectPastTheCap => {
            return past_the_cap(stack, who, token.as_deref().unwrap_or_default(), socket).await;
        }
        Op::WsMessageTooBig => {
            let big = tokio_tungstenite::tungstenite::Message::text("x".repeat(200 * 1024));
            socket.send_frame(big).await;
            let closed = socket.close_frame(std::time::Duration::from_secs(5)).await;
            return closed.unwrap_or_default();
        }
        Op::WsSubscribe => json!({"action": "subscribe", "cartId": cart}),
        Op::WsUnsubscribe => json!({"action": "unsubscribe", "cartId": cart}),
        _ => json!({"action": "ping"}),
    };
    let answer = socket.ask(message).await;
    match answer["type"].as_str() {
        Some("error") if answer["code"] == "CART_NOT_FOUND" => (404, "CART_NOT_FOUND".into()),
        Some("error") => (400, answer["code"].as_str().unwrap_or_default().to_owned()),
        Some(_) => (200, String::new()),
        None => (0, answer.to_string()),
    }
}

/// The user a valid token of `who` names.
fn user_of(who: Who) -> Option<&'static str> {
    match who {
        Who::Owner => Some("owner"),
        Who::Editor => Some("editor"),
        Who::Viewer => Some("viewer"),
        Who::RemovedMember => Some("removed"),
        Who::Stranger => Some("stranger"),
        Who::Admin => Some("ops"),
        _ => None,
    }
}

/// Waits until the registry holds none of `who`'s connections: the sockets of earlier cells
/// are gone once their `$disconnect` is in, which comes after the close.
async fn none_open(stack: &TestStack, who: Who) {
    let Some(user) = user_of(who).and_then(|u| domain::UserId::parse(u).ok()) else {
        return;
    };
    let registry = stack.registry();
    let closed = tests::within(std::time::Duration::from_secs(5), || async {
        registry
            .connections_of(&user)
            .await
            .is_ok_and(|c| c.is_empty())
    })
    .await;
    assert!(closed, "{who:?}'s earlier sockets never disconnected");
}

/// With `first` open, opens the rest of the cap's sockets and then one more: its handshake's
/// status and problem code.
async fn past_the_cap(stack: &TestStack, who: Who, token: &str, first: Socket) -> (u16, String) {
    drop(first);
    none_open(stack, who).await;
    let mut held = Vec::new();
    for n in 0..MATRIX_CAP {
        let socket = Socket::connect(stack.addr(), token).await;
        held.push(
            socket.unwrap_or_else(|e| panic!("{who:?}'s connection {n} is within the cap: {e}")),
        );
    }
    let answer = match Socket::connect(stack.addr(), token).await {
        Ok(_) => (101, String::new()),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let problem: Value = response
                .body()
                .as_deref()
                .and_then(|body| serde_json::from_slice(body).ok())
                .unwrap_or_default();
            let code = problem["code"].as_str().unwrap_or_default().to_owned();
            (response.status().as_u16(), code)
        }
        Err(e) => panic!("past the cap as {who:?}: {e}"),
    };
    drop(held);
    none_open(stack, who).await;
    answer
}

/// The code a refusal must carry: what the caller may learn, and no more.
fn expected_code(op: Op, status: u16) -> &'static str {
    match (op, status) {
        (_, 401) => "UNAUTHENTICATED",
        (_, 404) => "CART_NOT_FOUND",
        (Op::UpdateItemStock | Op::GetAnalytics, 403) => "SCOPE_REQUIRED",
        (Op::AcceptInvite, 409) => "ALREADY_A_MEMBER",
        (Op::WsConnectPastTheCap, 429) => "TOO_MANY_CONNECTIONS",
        (
            Op::ShareCart
            | Op::UnshareCart
            | Op::CreateInvite
            | Op::ListInvites
            | Op::RevokeInvite
            | Op::LockCart
            | Op::UnlockCart
            | Op::UpdateCartSettings,
            403,
        ) => "OWNER_ONLY",
        (_, 403) => "READ_ONLY_MEMBER",
        _ => "",
    }
}

/// A stack whose tokens the test can sign, and the keys. The matrix makes hundreds of requests
/// as a few users: rates are not what it checks.
async fn matrix_stack() -> (TestStack, TokenKeys) {
    let keys = TokenKeys::new(SECRET, ISSUER, AUDIENCE);
    let stack = spawn_stack_with(|config| {
        config.keys = keys.clone();
        config.rate_per_user = None;
        config.websocket.connections_per_user = MATRIX_CAP;
    })
    .await;
    (stack, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_every_caller_as_designed_on_rest_and_websocket() {
    let (stack, keys) = matrix_stack().await;
    let owner = token_of(Who::Owner, &keys).unwrap_or_default();
    let mut wrong = Vec::new();
    for (op, designed) in MATRIX {
        for (who, expected) in EVERYONE.iter().zip(designed) {
            let target = fixture(&stack, &owner).await;
            if matches!(op, Op::UnlockCart) {
                lock(&stack, &owner, &target.cart).await;
            }
            let (status, code) = attempt(&stack, *op, *who, &target, &keys).await;
            let want_code = expected_code(*op, *expected);
            let code_matters = !want_code.is_empty() && !matches!(op, Op::WsConnect);
            let ws_refused = matches!(
                op,
                Op::WsConnect
                    | Op::WsSubscribe
                    | Op::WsUnsubscribe
                    | Op::WsPing
                    | Op::WsConnectPastTheCap
                    | Op::WsMessageTooBig
            ) && *expected == 401;
            if status != *expected || (code_matters && !ws_refused && code != want_code) {
                wrong.push(format!(
                    "{op:?} as {who:?}: {status} {code}, designed {expected} {want_code}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_gets_exactly_what_a_cart_that_does_not_exist_gets() {
    let (stack, keys) = matrix_stack().await;
    let owner = token_of(Who::Owner, &keys).unwrap_or_default();
    let stranger = token_of(Who::Stranger, &keys);
    let existing = fixture(&stack, &owner).await;
    let cart = existing.cart.clone();
    let absent = uuid::Uuid::new_v4().to_string();
    let nowhere = Target {
        cart: absent.clone(),
        ..existing.clone()
    };
    for op in [
        Op::GetCart,
        Op::ModifyCart,
        Op::AddItemToCart,
        Op::RemoveItemFromCart,
        Op::ShareCart,
        Op::UnshareCart,
        Op::CreateInvite,
        Op::ListInvites,
        Op::RevokeInvite,
        Op::LockCart,
        Op::UnlockCart,
        Op::CheckoutCart,
    ] {
        let answer = |target: Target| {
            let stranger = stranger.clone();
            let addr = stack.addr();
            async move {
                let (method, path, body) = request(op, &target);
                let reply = Client::connect(addr)
                    .await
                    .send(method, &path, stranger.as_deref(), body)
                    .await;
                // The cart id is in the detail of both; everything else must match.
                let text = reply.body.to_string().replace(&target.cart, "{cartId}");
                (
                    reply.status,
                    reply.headers.get("content-type").cloned(),
                    text,
                )
            }
        };
        assert_eq!(
            answer(existing.clone()).await,
            answer(nowhere.clone()).await,
            "{op:?}"
        );
    }
    let mut socket = Socket::connect(stack.addr(), stranger.as_deref().unwrap_or_default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let existing = socket
        .ask(json!({"action": "subscribe", "cartId": cart}))
        .await;
    let missing = socket
        .ask(json!({"action": "subscribe", "cartId": absent}))
        .await;
    assert_eq!(
        existing.to_string().replace(&cart, "{cartId}"),
        missing.to_string().replace(&absent, "{cartId}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_cart_refuses_every_line_edit_with_who_locked_it_and_still_lets_members_come_and_go()
 {
    let (stack, keys) = matrix_stack().await;
    let owner = token_of(Who::Owner, &keys).unwrap_or_default();
    let target = fixture(&stack, &owner).await;
    lock(&stack, &owner, &target.cart).await;
    let mut wrong = Vec::new();
    for op in [Op::ModifyCart, Op::AddItemToCart, Op::RemoveItemFromCart] {
        for who in [Who::Owner, Who::Editor] {
            let (method, path, body) = request(op, &target);
            let reply = Client::connect(stack.addr())
                .await
                .send(method, &path, token_of(who, &keys).as_deref(), body)
                .await;
            if (reply.status, reply.code()) != (409, "CART_LOCKED")
                || reply.body["lockedBy"] != "owner"
            {
                wrong.push(format!(
                    "{op:?} as {who:?}: {} {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    // The editor may not buy what the owner holds; the viewer is still only a viewer.
    for (who, status, code) in [
        (Who::Editor, 409, "CART_LOCKED"),
        (Who::Viewer, 403, "READ_ONLY_MEMBER"),
    ] {
        let (method, path, body) = request(Op::CheckoutCart, &target);
        let reply = Client::connect(stack.addr())
            .await
            .send(method, &path, token_of(who, &keys).as_deref(), body)
            .await;
        if (reply.status, reply.code()) != (status, code) {
            wrong.push(format!(
                "checkout as {who:?}: {} {}",
                reply.status, reply.body
            ));
        }
    }
    for op in [Op::ShareCart, Op::UnshareCart] {
        let (method, path, body) = request(op, &target);
        let reply = Client::connect(stack.addr())
            .await
            .send(method, &path, Some(&owner), body)
            .await;
        if reply.status != 200 {
            wrong.push(format!(
                "{op:?} while locked: {} {}",
                reply.status, reply.body
            ));
        }
    }
    let (method, path, body) = request(Op::CheckoutCart, &target);
    let bought = Client::connect(stack.addr())
        .await
        .send(method, &path, Some(&owner), body)
        .await;
    assert_eq!(
        (bought.status, bought.body["status"].as_str()),
        (200, Some("CHECKED_OUT")),
        "{}",
        bought.body
    );
    assert!(bought.body.get("lock").is_none(), "{}", bought.body);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
