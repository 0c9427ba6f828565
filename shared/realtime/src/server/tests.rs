//! Push messages: their shape, who gets what, and the size limit at the largest allowed cart.

use super::*;
use domain::cart::{MAX_LINES, MAX_MEMBERS};
use domain::{Cart, Currency, ItemId, Line, Member, Quantity, Role};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn small_cart() -> Cart {
    let mut cart = Cart::new(
        CartId::new(),
        user("alice"),
        Currency::DEFAULT,
        chrono::Utc::now(),
    );
    cart.members.push(Member {
        user_id: user("bob"),
        role: Role::Editor,
    });
    cart
}

#[test]
fn a_member_receives_the_change_with_the_snapshot() {
    let event = CartEvent::new(EventType::CartItemAdded, &small_cart(), &user("alice"), &[]);
    let message: serde_json::Value =
        serde_json::from_str(&push_message_for(&event, &user("bob"))).unwrap();
    assert_eq!(message["type"], "change");
    assert_eq!(message["event"], "CartItemAdded");
    assert_eq!(message["actor"], "alice");
    assert_eq!(message["version"], 1);
    assert_eq!(message["cart"]["items"], serde_json::json!([]));
    assert!(message.get("snapshotOmitted").is_none());
    assert!(
        message["cart"].get("members").is_none(),
        "an add leaves the members as the recipient holds them"
    );
}

#[test]
fn only_a_change_to_membership_carries_the_member_list() {
    for event_type in ALL_EVENT_TYPES {
        let event = CartEvent::new(event_type, &small_cart(), &user("alice"), &[]);
        let message: serde_json::Value =
            serde_json::from_str(&push_message_for(&event, &user("bob"))).unwrap();
        let members = &message["cart"]["members"];
        if event_type.changes_membership() {
            assert_eq!(members[1]["userId"], "bob", "{event_type:?}");
        } else {
            assert!(members.is_null(), "{event_type:?}");
        }
        assert_eq!(message["cart"]["ownerId"], "alice", "{event_type:?}");
    }
}

const ALL_EVENT_TYPES: [EventType; 13] = [
    EventType::CartCreated,
    EventType::CartItemAdded,
    EventType::CartItemRemoved,
    EventType::CartModified,
    EventType::CartShared,
    EventType::CartUnshared,
    EventType::CartJoined,
    EventType::CartInviteCreated,
    EventType::CartInviteRevoked,
    EventType::CartLocked,
    EventType::CartUnlocked,
    EventType::CartSettingsChanged,
    EventType::CartCheckedOut,
];

#[test]
fn a_change_that_changed_a_members_name_carries_the_member_list_with_it() {
    let mut cart = small_cart();
    cart.remember_name(&user("bob"), "Bob Builder");
    let mut event = CartEvent::new(EventType::CartItemAdded, &cart, &user("bob"), &[]);
    event.names_changed = true;
    let message: serde_json::Value =
        serde_json::from_str(&push_message_for(&event, &user("alice"))).unwrap();
    assert_eq!(message["cart"]["members"][1]["name"], "Bob Builder");
}

#[test]
fn a_removed_member_is_told_once_without_the_cart() {
    let cart = small_cart();
    let mut after = cart.clone();
    after.members.pop();
    after.version = 2;
    let event = CartEvent::new(
        EventType::CartUnshared,
        &after,
        &user("alice"),
        &[user("bob")],
    );
    let to_bob: serde_json::Value =
        serde_json::from_str(&push_message_for(&event, &user("bob"))).unwrap();
    assert_eq!(to_bob["type"], "removed");
    assert!(
        to_bob.get("cart").is_none(),
        "a removed member no longer sees the cart"
    );
    let to_alice: serde_json::Value =
        serde_json::from_str(&push_message_for(&event, &user("alice"))).unwrap();
    assert_eq!(to_alice["type"], "change");
}

/// The largest cart the limits allow: every line and member at its longest.
fn largest_cart() -> Cart {
    let mut cart = small_cart();
    let long_user = |i: usize| user(&format!("{i:04}{}", "u".repeat(UserId::MAX_LEN - 4)));
    cart.members = (0..MAX_MEMBERS)
        .map(|i| Member {
            user_id: long_user(i),
            role: Role::Editor,
        })
        .collect();
    cart.items = (0..MAX_LINES)
        .map(|i| Line {
            item_id: ItemId::parse(&format!("{i:04}{}", "i".repeat(ItemId::MAX_LEN - 4))).unwrap(),
            name: "n".repeat(domain::item::MAX_NAME_LEN),
            quantity: Quantity::try_from(Quantity::MAX).unwrap(),
            unit_price: i64::MAX / 1000,
            added_by: long_user(i),
        })
        .collect();
    cart
}

#[test]
fn messages_stay_under_128_kb_at_the_largest_allowed_cart() {
    let cart = largest_cart();
    for event_type in ALL_EVENT_TYPES {
        let event = CartEvent::new(event_type, &cart, &cart.members[0].user_id, &[]);
        let message = push_message_for(&event, &cart.members[1].user_id);
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "{event_type:?}: {} bytes",
            message.len()
        );
        let parsed: serde_json::Value = serde_json::from_str(&message).unwrap();
        assert_eq!(parsed["version"], cart.version);
        if event_type.changes_membership() {
            assert_eq!(
                parsed["snapshotOmitted"], true,
                "with every member listed this cart cannot fit, so the client re-reads"
            );
        } else {
            assert!(
                parsed["cart"]["items"].is_array(),
                "{event_type:?}: without the member list the largest cart fits"
            );
        }
    }
}

#[test]
fn a_cart_of_250_lines_and_a_few_members_still_carries_its_snapshot() {
    let mut cart = largest_cart();
    cart.members.truncate(10);
    let event = CartEvent::new(
        EventType::CartModified,
        &cart,
        &cart.members[0].user_id,
        &[],
    );
    let message = push_message_for(&event, &cart.members[1].user_id);
    assert!(message.len() <= MAX_MESSAGE_BYTES);
    assert!(
        !message.contains("snapshotOmitted"),
        "{} bytes",
        message.len()
    );
}

fn schema() -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra/websocket-messages.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn every_kind_of_server_message_matches_the_published_schema() {
    let validator = schema();
    let cart = small_cart();
    let event = CartEvent::new(EventType::CartItemAdded, &cart, &user("alice"), &[]);
    let mut after = cart.clone();
    after.members.pop();
    let unshared = CartEvent::new(
        EventType::CartUnshared,
        &after,
        &user("alice"),
        &[user("bob")],
    );
    let big = largest_cart();
    let too_big = CartEvent::new(EventType::CartShared, &big, &big.members[0].user_id, &[]);
    let shared = CartEvent::new(EventType::CartShared, &cart, &user("alice"), &[]);
    let short = CartEvent::stock_short(
        &CartEvent::new(EventType::CartCheckedOut, &cart, &user("alice"), &[]),
        vec![domain::Shortage {
            item_id: ItemId::parse("pear").unwrap(),
            requested: 3,
            available: 1,
        }],
    );
    let messages = [
        push_message_for(&event, &user("bob")),
        push_message_for(&short, &user("bob")),
        push_message_for(&shared, &user("bob")),
        push_message_for(&unshared, &user("bob")),
        push_message_for(&too_big, &big.members[1].user_id),
        ServerMessage::Snapshot {
            cart_id: cart.cart_id,
            version: 1,
            cart: &event.snapshot,
            viewers: &[user("alice"), user("bob")],
        }
        .to_json(),
        ServerMessage::Presence {
            cart_id: cart.cart_id,
            viewers: &[user("bob")],
        }
        .to_json(),
        ServerMessage::Unsubscribed {
            cart_id: cart.cart_id,
        }
        .to_json(),
        ServerMessage::Pong.to_json(),
        ServerMessage::Error {
            code: "UNKNOWN_ACTION",
            detail: "x".into(),
        }
        .to_json(),
    ];
    for message in messages {
        let value: serde_json::Value = serde_json::from_str(&message).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{errors:?}\n{}",
            &message[..message.len().min(300)]
        );
    }
}

#[test]
fn the_schema_rejects_what_we_never_send() {
    let validator = schema();
    let added = CartEvent::new(EventType::CartItemAdded, &small_cart(), &user("alice"), &[]);
    let mut shared_without_members = json_value(&push_message_for(&added, &user("bob")));
    shared_without_members["event"] = "CartShared".into();
    for bad in [
        json_value(r#"{"type":"change"}"#),
        json_value(r#"{"type":"dance"}"#),
        shared_without_members,
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}

fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_stock_shortfall_reaches_every_member_without_the_cart() {
    let cart = small_cart();
    let checked_out = CartEvent::new(EventType::CartCheckedOut, &cart, &user("alice"), &[]);
    let shortage = domain::Shortage {
        item_id: ItemId::parse("pear").unwrap(),
        requested: 3,
        available: 1,
    };
    let short = CartEvent::stock_short(&checked_out, vec![shortage]);
    assert_eq!(
        short.version, checked_out.version,
        "not a change of the cart"
    );
    for member in ["alice", "bob"] {
        let message: serde_json::Value =
            serde_json::from_str(&push_message_for(&short, &user(member))).unwrap();
        assert_eq!(message["type"], "shortfall");
        assert_eq!(message["shortages"][0]["available"], 1);
        assert!(message.get("cart").is_none());
    }
}
