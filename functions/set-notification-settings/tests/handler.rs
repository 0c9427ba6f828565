//! setNotificationSettings' handler, fed its sample API Gateway event (alice turning mails off)
//! and variations of it.

use domain::memory::MemoryNotifications;
use domain::notification::NotificationStore;
use domain::testing::user;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_turns_the_caller_s_mails_off_and_back_on() {
    let store = MemoryNotifications::default();
    let mut event = sample_event("set-notification-settings");
    let response = set_notification_settings::handle(&store, request(&event)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response), serde_json::json!({"mailsOff": true}));
    assert!(store.mails_off(&user("alice")).await.unwrap());
    assert!(!store.mails_off(&user("bob")).await.unwrap());

    event["body"] = r#"{"mailsOff": false}"#.into();
    let response = set_notification_settings::handle(&store, request(&event)).await;
    assert_eq!(response.status(), 200);
    assert!(!store.mails_off(&user("alice")).await.unwrap());
}

#[tokio::test]
async fn a_body_that_is_not_the_setting_is_400() {
    for body in [
        r#"{"mailsOff": "yes"}"#,
        r#"{}"#,
        r#"{"mailsOff": true, "x": 1}"#,
        "[]",
    ] {
        let mut event = sample_event("set-notification-settings");
        event["body"] = body.into();
        let response =
            set_notification_settings::handle(&MemoryNotifications::default(), request(&event))
                .await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(body_json(&response)["code"], "VALIDATION_FAILED", "{body}");
    }
}
