//! Every REST operation over HTTP on the local stack: success and failure paths, through the
//! same gateway, authorizer and handlers as in production.

use serde_json::json;
use tests::spawn_stack;

#[tokio::test]
async fn two_users_share_a_cart_and_both_edit_it() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let mut bob = stack.user("bob").await;

    let created = alice
        .send(
            "POST",
            "/carts",
            Some(json!({"items": [{"itemId": "apple", "quantity": 2}]})),
        )
        .await;
    assert_eq!(created.status, 201);
    let cart = created.body["cartId"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"],
        format!("/carts/{cart}").as_str()
    );

    let shared = alice.share(&cart, &["bob"], "editor").await;
    assert_eq!(shared.status, 200);
    assert_eq!(shared.body["version"], 2);

    let added = bob
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "milk", "quantity": 1})),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["items"][1]["addedBy"], "bob");

    let seen = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(seen.body["version"], 3);
    assert_eq!(seen.body["total"], 2 * 45 + 119);

    let mine = bob.send("GET", "/me/carts", None).await;
    assert_eq!(mine.body["carts"][0]["cartId"], cart.as_str());
    assert_eq!(mine.body["carts"][0]["role"], "editor");
    let me = bob.send("GET", "/me", None).await;
    assert_eq!(me.body["cartIds"], json!([cart]));

    let removed = bob
        .send("DELETE", &format!("/carts/{cart}/items/apple"), None)
        .await;
    assert_eq!(removed.status, 200);
    let checked_out = bob
        .send("POST", &format!("/carts/{cart}/checkout"), None)
        .await;
    assert_eq!(checked_out.status, 200, "{}", checked_out.body);
    assert_eq!(checked_out.body["status"], "CHECKED_OUT");

    let too_late = alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "apple", "quantity": 1})),
        )
        .await;
    assert_eq!(
        (too_late.status, too_late.code()),
        (409, "CART_CHECKED_OUT")
    );
}

#[tokio::test]
async fn viewers_read_but_every_write_is_forbidden() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let mut vera = stack.user("vera").await;
    let cart = alice.create_cart().await;
    alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "apple", "quantity": 1})),
        )
        .await;
    alice.share(&cart, &["vera"], "viewer").await;

    assert_eq!(
        vera.send("GET", &format!("/carts/{cart}"), None)
            .await
            .status,
        200
    );
    let writes = [
        (
            "POST",
            format!("/carts/{cart}/items"),
            Some(json!({"itemId": "apple", "quantity": 1})),
        ),
        ("DELETE", format!("/carts/{cart}/items/apple"), None),
        (
            "PATCH",
            format!("/carts/{cart}"),
            Some(json!({"changes": [{"itemId": "apple", "quantity": 3}]})),
        ),
        ("POST", format!("/carts/{cart}/checkout"), None),
    ];
    for (method, path, body) in writes {
        let reply = vera.send(method, &path, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, "READ_ONLY_MEMBER"),
            "{method} {path}"
        );
    }
    let share = vera.share(&cart, &["x"], "viewer").await;
    assert_eq!((share.status, share.code()), (403, "OWNER_ONLY"));
}

#[tokio::test]
async fn strangers_and_removed_members_get_404_for_everything() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let mut eve = stack.user("eve").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["eve"], "editor").await;
    let removed = alice
        .send("DELETE", &format!("/carts/{cart}/members/eve"), None)
        .await;
    assert_eq!(removed.status, 200);

    for (method, path) in [
        ("GET", format!("/carts/{cart}")),
        ("POST", format!("/carts/{cart}/checkout")),
    ] {
        let reply = eve.send(method, &path, None).await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "CART_NOT_FOUND"),
            "{method} {path}"
        );
    }
    let never = format!("/carts/{}", "00000000-0000-4000-8000-000000000000");
    assert_eq!(
        eve.send("GET", &never, None).await.code(),
        "CART_NOT_FOUND",
        "absent and hidden look alike"
    );
    assert_eq!(
        eve.send("GET", "/me/carts", None).await.body["carts"],
        json!([])
    );
}

#[tokio::test]
async fn a_member_may_leave_but_the_owner_may_not() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let mut bob = stack.user("bob").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["bob"], "viewer").await;
    assert_eq!(
        bob.send("DELETE", &format!("/carts/{cart}/members/bob"), None)
            .await
            .status,
        204
    );
    let owner_leaves = alice
        .send("DELETE", &format!("/carts/{cart}/members/alice"), None)
        .await;
    assert_eq!(
        (owner_leaves.status, owner_leaves.code()),
        (422, "OWNER_IS_PERMANENT")
    );
    let not_member = alice
        .send("DELETE", &format!("/carts/{cart}/members/bob"), None)
        .await;
    assert_eq!(
        (not_member.status, not_member.code()),
        (404, "NOT_A_MEMBER")
    );
}

#[tokio::test]
async fn modify_with_a_stale_if_match_is_409_with_the_current_version() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let added = alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "pasta", "quantity": 1})),
        )
        .await;
    let etag = added.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"2\"");

    let changes =
        json!({"changes": [{"itemId": "pasta", "quantity": 4}, {"itemId": "eggs", "quantity": 2}]});
    let ok = alice
        .send_with(
            "PATCH",
            &format!("/carts/{cart}"),
            Some(changes.clone()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["items"][0]["quantity"], 4);

    let stale = alice
        .send_with(
            "PATCH",
            &format!("/carts/{cart}"),
            Some(changes),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!((stale.status, stale.code()), (409, "VERSION_CONFLICT"));
    assert_eq!(stale.body["currentVersion"], 3);
    let stale_body = alice
        .send(
            "PATCH",
            &format!("/carts/{cart}"),
            Some(json!({"expectedVersion": 1, "changes": [{"itemId": "pasta", "quantity": 1}]})),
        )
        .await;
    assert_eq!(stale_body.status, 409);
}

#[tokio::test]
async fn validation_failures_are_400_problems_naming_the_field() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let cases = [
        (json!({"itemId": "apple", "quantity": 0}), "quantity"),
        (json!({"itemId": "apple", "quantity": 1000}), "quantity"),
        (json!({"itemId": "no/slashes", "quantity": 1}), "itemId"),
        (json!({"itemId": "apple"}), "body"),
    ];
    for (body, field) in cases {
        let reply = alice
            .send("POST", &format!("/carts/{cart}/items"), Some(body.clone()))
            .await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        assert_eq!(
            (reply.code(), reply.body["field"].as_str()),
            ("VALIDATION_FAILED", Some(field)),
            "{body}"
        );
    }
    let bad_id = alice.send("GET", "/carts/not-a-uuid", None).await;
    assert_eq!(
        (bad_id.status, bad_id.body["field"].as_str()),
        (400, Some("cartId"))
    );
    let (status, _, _) = alice
        .client
        .send_raw(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(&alice.token),
            "{oops".into(),
            &[],
        )
        .await;
    assert_eq!(status, 400);
    let huge = bytes::Bytes::from(format!(
        "{{\"itemId\":\"apple\",\"quantity\":1,\"pad\":\"{}\"}}",
        "x".repeat(70_000)
    ));
    let (status, _, _) = alice
        .client
        .send_raw(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(&alice.token),
            huge,
            &[],
        )
        .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn stock_and_catalog_rules_hold_at_add_and_at_checkout() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let admin_token = stack.token("ops", &["admin"]).await;
    let mut admin = stack.client().await;
    let cart = alice.create_cart().await;

    let unknown = alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "unicorn", "quantity": 1})),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (422, "ITEM_NOT_FOUND"));
    let greedy = alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "truffle", "quantity": 3})),
        )
        .await;
    assert_eq!((greedy.status, greedy.code()), (409, "OUT_OF_STOCK"));
    assert_eq!(greedy.body["shortages"][0]["available"], 2);

    let ok = alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "truffle", "quantity": 2})),
        )
        .await;
    assert_eq!(ok.status, 200);
    let not_admin = alice
        .send("PUT", "/items/truffle/stock", Some(json!({"stock": 1})))
        .await;
    assert_eq!(
        (not_admin.status, not_admin.code()),
        (403, "SCOPE_REQUIRED")
    );
    let restock = admin
        .send(
            "PUT",
            "/items/truffle/stock",
            Some(admin_token.as_str()),
            Some(json!({"stock": 1})),
        )
        .await;
    assert_eq!(restock.status, 200);

    let short = alice
        .send("POST", &format!("/carts/{cart}/checkout"), None)
        .await;
    assert_eq!((short.status, short.code()), (409, "OUT_OF_STOCK"));
    assert_eq!(
        alice
            .send("GET", &format!("/carts/{cart}"), None)
            .await
            .body["status"],
        "ACTIVE"
    );
    let empty = alice.create_cart().await;
    let nothing = alice
        .send("POST", &format!("/carts/{empty}/checkout"), None)
        .await;
    assert_eq!((nothing.status, nothing.code()), (422, "EMPTY_CART"));
}

#[tokio::test]
async fn the_catalog_pages_and_describes_items() {
    let stack = spawn_stack().await;
    let mut carol = stack.user("carol").await;
    let first = carol.send("GET", "/items?limit=5", None).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 5);
    let next = first.body["nextToken"].as_str().unwrap().to_owned();
    let rest = carol
        .send("GET", &format!("/items?limit=100&nextToken={next}"), None)
        .await;
    assert_eq!(
        rest.body["items"].as_array().unwrap().len(),
        7,
        "12 demo items in all"
    );
    let apple = carol.send("GET", "/items/apple", None).await;
    assert_eq!(
        (
            apple.body["price"].as_i64(),
            apple.body["currency"].as_str()
        ),
        (Some(45), Some("EUR"))
    );
    assert_eq!(carol.send("GET", "/items/unicorn", None).await.status, 404);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let stack = spawn_stack().await;
    let mut client = stack.client().await;
    assert_eq!(client.send("GET", "/me", None, None).await.status, 401);
    let forged = client
        .send(
            "GET",
            "/me",
            Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldmUifQ.c2lnbmF0dXJl"),
            None,
        )
        .await;
    assert_eq!((forged.status, forged.code()), (401, "UNAUTHENTICATED"));
    assert_eq!(forged.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let stack = spawn_stack().await;
    let mut client = stack.client().await;
    let missing = client.send("GET", "/nope", None, None).await;
    assert_eq!((missing.status, missing.code()), (404, "ROUTE_NOT_FOUND"));
    let wrong = client.send("PUT", "/carts", None, None).await;
    assert_eq!(
        (wrong.status, wrong.headers["allow"].to_str().unwrap()),
        (405, "POST")
    );
    let bad_token_request = client
        .send("POST", "/dev/token", None, Some(json!({"userId": "a b"})))
        .await;
    assert_eq!(bad_token_request.status, 400);
}

#[tokio::test]
async fn carts_survive_a_restart_of_the_stack() {
    let mut stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    alice
        .send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "coffee", "quantity": 2})),
        )
        .await;
    stack.restart().await;
    let mut alice = stack.user("alice").await;
    let after = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(after.status, 200);
    assert_eq!(
        (
            after.body["version"].as_u64(),
            after.body["items"][0]["quantity"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(
        alice.send("GET", "/items?limit=100", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        12,
        "seeded once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_or_scheme_header_that_does_not_parse_gets_an_answer_not_a_dropped_connection() {
    // Found by fuzzing: lambda_http panicked building the URI from these.
    let stack = spawn_stack().await;
    let token = stack.token("alice", &[]).await;
    for headers in [
        [
            ("host", "abcdef]1234.example.com"),
            ("x-forwarded-proto", "https"),
        ],
        [("host", "127.0.0.1"), ("x-forwarded-proto", "a b")],
    ] {
        let reply = stack
            .client()
            .await
            .send_with("GET", "/me", Some(&token), None, &headers)
            .await;
        assert_eq!(reply.status, 200, "{headers:?}: {}", reply.body);
    }
}

/// Sharing by email or user name, as a group does once the other has signed in: the sign-in
/// (`GET /me`) keeps the profile the token states, and the share finds it.
#[tokio::test]
async fn an_owner_shares_by_the_email_or_user_name_of_someone_who_signed_in() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let share = |field: &str, value: &str| json!({field: [value], "role": "editor"});

    let refused = alice
        .send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(share("emails", "dana@example.com")),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "USER_UNKNOWN"),
        "nobody signed in with it yet: {}",
        refused.body
    );

    for (user, email, user_name) in [
        ("dana", "Dana@Example.com", "dana.lee"),
        ("erin", "erin@example.com", "erin.p"),
    ] {
        let (_, me) = stack
            .signed_in(json!({"userId": user, "email": email, "userName": user_name}))
            .await;
        assert_eq!(me.body["email"], email.to_lowercase());
    }

    let by_email = alice
        .send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(share("emails", "dana@example.com")),
        )
        .await;
    assert_eq!(by_email.status, 200, "{}", by_email.body);
    let by_name = alice
        .send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(share("userNames", "Erin.P")),
        )
        .await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    let members: Vec<&str> = by_name.body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["userId"].as_str())
        .collect();
    assert_eq!(members, ["alice", "dana", "erin"]);
}

/// Members who are away are told of a share and a lock: mailed (logged, locally) when they
/// signed in with an email, listed only when they turned mails off; the one who acted is told
/// nothing, and each notice is listed once.
#[tokio::test]
async fn members_who_are_away_are_told_what_concerns_them_and_mailed_unless_they_said_no() {
    let stack = spawn_stack().await;
    let mut tokens = std::collections::HashMap::new();
    for user in ["dana", "erin"] {
        let (token, _) = stack
            .signed_in(json!({"userId": user, "email": format!("{user}@example.com")}))
            .await;
        tokens.insert(user, token);
    }
    let off = stack
        .client()
        .await
        .send(
            "PUT",
            "/me/notification-settings",
            Some(&tokens["erin"]),
            Some(json!({"mailsOff": true})),
        )
        .await;
    assert_eq!((off.status, &off.body), (200, &json!({"mailsOff": true})));

    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let shared = alice
        .send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(json!({"userIds": ["dana", "erin"], "role": "editor"})),
        )
        .await;
    assert_eq!(shared.status, 200, "{}", shared.body);
    let added = alice.add(&cart, "coffee", 1).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let locked = alice
        .send("POST", &format!("/carts/{cart}/lock"), None)
        .await;
    assert_eq!(locked.status, 200, "{}", locked.body);

    // The consumer runs beside the push: wait for both notices and their mails.
    let told = |user: &'static str| {
        let (stack, token) = (&stack, tokens[user].clone());
        async move {
            for _ in 0..100 {
                let listed = stack
                    .client()
                    .await
                    .send("GET", "/me/notifications", Some(&token), None)
                    .await;
                assert_eq!(listed.status, 200, "{}", listed.body);
                let items = listed.body["items"].as_array().cloned().unwrap_or_default();
                // A notice is recorded `pending` before its mail goes out: wait for the mark.
                let settled = items.iter().all(|n| n["mailing"] != "pending");
                if items.len() >= 2 && settled {
                    return items
                        .iter()
                        .map(|n| {
                            (
                                n["topic"].as_str().unwrap_or_default().to_owned(),
                                n["mailing"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect::<Vec<_>>();
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("{user} was not told of the share and the lock");
        }
    };
    let pair = |topic: &str, mailing: &str| (topic.to_owned(), mailing.to_owned());
    assert_eq!(
        told("dana").await,
        [pair("locked", "sent"), pair("added", "sent")]
    );
    assert_eq!(
        told("erin").await,
        [pair("locked", "optedOut"), pair("added", "optedOut")]
    );
    let own = alice.send("GET", "/me/notifications", None).await;
    assert_eq!(
        own.body["items"],
        json!([]),
        "alice is told nothing of what she did"
    );
}
