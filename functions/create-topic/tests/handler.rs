//! The custom resource against a real Kafka-protocol broker (tansu, from `tests/services.sh`),
//! with its answers caught by an HTTP listener standing where CloudFormation's presigned URL
//! would be.

use bytes::Bytes;
use create_topic::{KafkaTopics, handle};
use custom_resource::{HttpsAnswer, ResourceRequest, ResourceResponse};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// An answer as the listener received it: the content type sent, and the body.
type Received = (Option<String>, Value);

/// A listener on 127.0.0.1 that records every PUT; its URL.
async fn response_url() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!(
        "http://{}/response?X-Amz-Signature=test",
        listener.local_addr().expect("bound")
    );
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let sender = sender.clone();
                        async move {
                            let content_type = request
                                .headers()
                                .get(http::header::CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let method = request.method().clone();
                            let body = request.into_body().collect().await?.to_bytes();
                            if method == http::Method::PUT {
                                let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                                let _ = sender.send((content_type, json));
                            }
                            Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::new())))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, received)
}

fn request(kind: &str, url: &str, properties: Value) -> ResourceRequest {
    let mut event: Value = serde_json::from_str(include_str!("../../../events/create-topic.json"))
        .expect("the sample event");
    event["RequestType"] = kind.into();
    event["ResponseURL"] = url.into();
    event["ResourceProperties"] = properties;
    serde_json::from_value(event).expect("a custom resource request")
}

fn topics_at(brokers: &str) -> KafkaTopics {
    let settings = |name: &str| (name == "KAFKA_BROKERS").then(|| brokers.to_owned());
    KafkaTopics::new(wiring::Config::from_settings(&settings).expect("a config"))
}

fn brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!("KAFKA_BROKERS is not set: run the tests through tests/services.sh")
    })
}

async fn partitions_of(topic: &str) -> Option<usize> {
    let client = kafka::connect(brokers().split(',').map(str::to_owned).collect())
        .await
        .expect("the broker");
    let topics = client.list_topics().await.expect("the topics");
    topics
        .into_iter()
        .find(|t| t.name == topic)
        .map(|t| t.partitions.len())
}

async fn answered(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("an answer at the response URL")
        .expect("the listener runs")
}

#[tokio::test]
async fn create_makes_the_topic_once_and_answers_success_each_time() {
    let (url, mut received) = response_url().await;
    let topic = format!("cart-events-{}", uuid::Uuid::new_v4());
    let create = request(
        "Create",
        &url,
        json!({"Topic": topic, "Partitions": "3", "ServiceToken": "arn"}),
    );
    let (topics, answer) = (topics_at(&brokers()), HttpsAnswer::new().expect("a client"));

    let first = handle(&topics, &answer, &create).await;
    assert_eq!(
        (first.status, first.physical_resource_id.as_str()),
        ("SUCCESS", topic.as_str()),
        "{}",
        first.reason
    );
    assert_eq!(first.data["Created"], "true");
    assert_eq!(partitions_of(&topic).await, Some(3));
    let (content_type, body) = answered(&mut received).await;
    assert_eq!(
        content_type.as_deref(),
        Some(""),
        "the presigned URL was signed without one"
    );
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], topic.as_str());
    assert_eq!(body["RequestId"], create.request_id.as_str());
    assert_eq!(body["LogicalResourceId"], "EventsTopicResource");

    let again = handle(
        &topics,
        &answer,
        &request("Update", &url, create.resource_properties.clone()),
    )
    .await;
    assert_eq!(again.status, "SUCCESS");
    assert_eq!(
        again.data["Created"], "false",
        "an existing topic is left as it is"
    );
    assert_eq!(answered(&mut received).await.1["Status"], "SUCCESS");
}

#[tokio::test]
async fn delete_keeps_the_topic_and_needs_no_broker() {
    let (url, mut received) = response_url().await;
    let mut delete = request(
        "Delete",
        &url,
        json!({"Topic": "cart-events", "Partitions": "6"}),
    );
    delete.physical_resource_id = Some("cart-events".into());
    let unreachable = topics_at("127.0.0.1:9");
    let answer = HttpsAnswer::new().expect("a client");
    let response = handle(&unreachable, &answer, &delete).await;
    assert_eq!(
        (response.status, response.physical_resource_id.as_str()),
        ("SUCCESS", "cart-events")
    );
    assert_eq!(answered(&mut received).await.1["Status"], "SUCCESS");
}

#[tokio::test]
async fn an_unreachable_cluster_or_bad_properties_answer_failed_with_the_reason_in_time() {
    let (url, mut received) = response_url().await;
    let answer = HttpsAnswer::new().expect("a client");
    let unreachable = topics_at("127.0.0.1:9");
    let started = Instant::now();
    let response: ResourceResponse = handle(
        &unreachable,
        &answer,
        &request(
            "Create",
            &url,
            json!({"Topic": "cart-events", "Partitions": "6"}),
        ),
    )
    .await;
    assert_eq!(response.status, "FAILED");
    assert!(!response.reason.is_empty());
    assert!(started.elapsed() < custom_resource::WORK_DEADLINE + Duration::from_secs(5));
    let (_, body) = answered(&mut received).await;
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["Reason"], response.reason.as_str());

    let bad = handle(
        &topics_at(&brokers()),
        &answer,
        &request(
            "Create",
            &url,
            json!({"Topic": "no spaces", "Partitions": "6"}),
        ),
    )
    .await;
    assert_eq!(bad.status, "FAILED");
    assert!(bad.reason.contains("topic name"), "{}", bad.reason);
    assert_eq!(answered(&mut received).await.1["Status"], "FAILED");
}
