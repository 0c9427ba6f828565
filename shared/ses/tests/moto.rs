//! The SES mailer against moto's SES (started by `tests/services.sh`), read back through moto's
//! record of what it sent: a mail from an unverified sender is refused as SES refuses it (and
//! the mailer says the service cannot send, not that the address is bad), and a mail from a
//! verified one arrives whole.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use domain::directory::Email;
use domain::notification::{Mail, MailError, Mailer};
use ses::SesMailer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn endpoint() -> String {
    std::env::var("SES_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "SES_ENDPOINT is not set: run the tests through tests/services.sh (tests/run.sh does)"
        )
    })
}

fn client() -> Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .http_client(tls::aws_http_client())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// What moto says it sent: its `ses` backend's messages, from `/moto-api/data.json`.
async fn sent_by_moto() -> Vec<serde_json::Value> {
    let address = endpoint().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("moto answers");
    let request =
        format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("the answer");
    let answer = String::from_utf8_lossy(&answer);
    let (_, body) = answer.split_once("\r\n\r\n").expect("a body");
    let data: serde_json::Value = serde_json::from_str(body).expect("moto's data as JSON");
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: Email::parse("email", to).expect("an email"),
        subject: subject.to_owned(),
        text: format!("{subject}.\n\nOpen the cart: https://carts.example\n"),
    }
}

#[tokio::test]
async fn a_mail_from_an_unverified_sender_is_refused_and_tried_again_later() {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mailer = SesMailer::new(client(), format!("nobody-{run}@carts.example"));
    let sent = mailer
        .send(&mail("finn@example.com", "Dana locked the cart"))
        .await;
    assert!(
        matches!(sent, Err(MailError::Unavailable(_))),
        "SES refuses an unverified sender with MessageRejected, which no recipient can fix: {sent:?}"
    );
}

#[tokio::test]
async fn a_mail_from_the_verified_sender_arrives_whole() {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let from = format!("carts-{run}@carts.example");
    let client = client();
    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    let subject = format!("Dana Lee locked Dana Lee's shared cart for checkout ({run})");
    SesMailer::new(client, &from)
        .send(&mail(&format!("finn-{run}@example.com"), &subject))
        .await
        .unwrap();

    let sent = sent_by_moto().await;
    let ours: Vec<_> = sent.iter().filter(|m| m["subject"] == subject).collect();
    assert_eq!(ours.len(), 1, "one mail, as sent: {sent:?}");
    assert_eq!(ours[0]["source"], from);
    assert_eq!(
        ours[0]["destinations"]["ToAddresses"][0],
        format!("finn-{run}@example.com")
    );
    assert!(
        ours[0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Open the cart: https://carts.example"),
        "{:?}",
        ours[0]
    );
}
