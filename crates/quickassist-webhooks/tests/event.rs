//! Typed events: documented payloads, unknown events and fields, JSON paths in errors,
//! user-defined event enums.

use chrono::{TimeZone, Utc};
use quickassist_webhooks::{
    parse_envelope, status::TemplateStatus, testing::PROVIDER_SAMPLE, DeviceType, Envelope, Event,
    MessageDelivered,
};
use serde::{Deserialize, Serialize};

fn body_of(event: &str, data: &str) -> String {
    format!(
        r#"{{"event":"{event}","timestamp":"2024-01-15T10:30:00Z","data":{data},"webhookId":"whk_1"}}"#
    )
}

#[test]
fn the_providers_example_parses_into_typed_fields() {
    let envelope = parse_envelope::<Event>(PROVIDER_SAMPLE.as_bytes()).unwrap();
    let at = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
    assert_eq!(envelope.timestamp, at);
    assert_eq!(envelope.webhook_id, "whk_abc123");
    let mut expected = MessageDelivered::new("msg_123456789".into(), "+1234567890".into(), at);
    expected.template = Some("welcome_message".into());
    expected.device_type = Some(DeviceType::Android);
    assert_eq!(envelope.event, Event::MessageDelivered(expected));
}

#[test]
fn unknown_event_types_and_fields_are_kept_not_refused() {
    let body = r#"{"event":"contact.blocked","timestamp":"2024-01-15T10:30:00Z","data":{"phone":"+1"},"webhookId":"w","retry":3}"#;
    let envelope = parse_envelope::<Event>(body.as_bytes()).unwrap();
    assert_eq!(
        envelope.event,
        Event::Unknown {
            event: "contact.blocked".into(),
            data: serde_json::json!({"phone": "+1"})
        }
    );
    assert_eq!(envelope.extra["retry"], 3);
    assert_eq!(serde_json::to_string(&envelope).unwrap(), body);

    let body = body_of(
        "template.status_update",
        r#"{"template":"t","status":"paused","category":"MARKETING"}"#,
    );
    let Event::TemplateStatusUpdate(update) =
        parse_envelope::<Event>(body.as_bytes()).unwrap().event
    else {
        panic!("wrong variant")
    };
    assert_eq!(update.status, Some(TemplateStatus::Other("paused".into())));
    assert_eq!(update.extra["category"], "MARKETING");
}

#[test]
fn errors_name_the_json_path_of_the_offending_field() {
    let cases = [
        (
            body_of(
                "message.delivered",
                r#"{"messageId":7,"recipient":"+1","deliveredAt":"2024-01-15T10:30:00Z"}"#,
            ),
            "data.messageId",
        ),
        (
            body_of(
                "message.delivered",
                r#"{"messageId":"m","recipient":"+1","deliveredAt":"soon"}"#,
            ),
            "data.deliveredAt",
        ),
        (body_of("message.read", r#"{"recipient":"+1"}"#), "data"),
        (
            r#"{"event":"message.read","data":{"messageId":"m"},"webhookId":"w"}"#.to_owned(),
            ".",
        ),
        (
            r#"{"event":"message.read","timestamp":1,"data":{"messageId":"m"},"webhookId":"w"}"#
                .to_owned(),
            "timestamp",
        ),
        (
            r#"{"event":5,"timestamp":"2024-01-15T10:30:00Z","data":{},"webhookId":"w"}"#
                .to_owned(),
            "event",
        ),
    ];
    for (body, path) in cases {
        let err = parse_envelope::<Event>(body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), path, "{body}: {err}");
        assert!(!err.is_syntax());
    }
    for body in ["", "{", "[1]", r#"{"event":"x"} trailing"#] {
        assert!(parse_envelope::<Event>(body.as_bytes()).is_err(), "{body}");
    }
    assert!(parse_envelope::<Event>(b"{").unwrap_err().is_syntax());
}

#[test]
fn repeated_keys_keep_the_last_value_like_json_parse() {
    let body = r#"{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"a"},"webhookId":"first","data":{"messageId":"b"},"webhookId":"second"}"#;
    let envelope = parse_envelope::<Event>(body.as_bytes()).unwrap();
    assert_eq!(envelope.webhook_id, "second");
    assert!(matches!(envelope.event, Event::MessageRead(ref read) if read.message_id == "b"));
}

#[test]
fn data_before_event_still_parses() {
    let body = r#"{"data":{"messageId":"m"},"webhookId":"w","timestamp":"2024-01-15T10:30:00Z","event":"message.failed"}"#;
    let envelope = parse_envelope::<Event>(body.as_bytes()).unwrap();
    assert!(matches!(envelope.event, Event::MessageFailed(ref failed) if failed.message_id == "m"));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
enum MyEvents {
    #[serde(rename = "message.read")]
    Read {
        #[serde(rename = "messageId")]
        id: String,
    },
    #[serde(rename = "message.failed")]
    Failed(serde_json::Value),
}

#[test]
fn a_user_defined_tagged_enum_works_as_the_event_type() {
    let read: Envelope<MyEvents> =
        parse_envelope(body_of("message.read", r#"{"messageId":"m"}"#).as_bytes()).unwrap();
    assert_eq!(read.event, MyEvents::Read { id: "m".into() });
    let other: Envelope<MyEvents> =
        parse_envelope(body_of("message.failed", r#"{"messageId":"m"}"#).as_bytes()).unwrap();
    assert_eq!(
        other.event,
        MyEvents::Failed(serde_json::json!({"messageId": "m"}))
    );
    // A closed user enum refuses event types it does not list: the user's choice.
    assert!(parse_envelope::<MyEvents>(body_of("x.y", "{}").as_bytes()).is_err());
    let err = parse_envelope::<MyEvents>(body_of("message.read", r#"{"messageId":1}"#).as_bytes())
        .unwrap_err();
    assert_eq!(err.path(), "data.messageId");
}

#[test]
fn serializing_gives_the_providers_camel_case_json_back() {
    let envelope = parse_envelope::<Event>(PROVIDER_SAMPLE.as_bytes()).unwrap();
    assert_eq!(serde_json::to_string(&envelope).unwrap(), PROVIDER_SAMPLE);
    let back: Envelope = serde_json::from_str(&serde_json::to_string(&envelope).unwrap()).unwrap();
    assert_eq!(back, envelope);
}
