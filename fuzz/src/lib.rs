//! Fuzz targets: every decoder a peer or a file controls, fed arbitrary bytes.
//!
//! Each target takes the bytes as the decoder would meet them (a frame off the wire, a file's
//! text) and runs the agent's own path on them: decode, then map to a message where the agent
//! would. A target fails only by panicking, hanging or allocating without bound; a decoder's
//! refusal is its right answer. Where a decoded value can be encoded again, the round trip is
//! checked too.
//!
//! The coverage-guided binary (`fuzz-target`, feature `libfuzzer`) runs one target, named by
//! `MSGTK_FUZZ_TARGET`, under libFuzzer; `bench/fuzz.sh` builds and runs it. The corpora under
//! `fuzz/corpus/TARGET/` (seeds, and what the fuzzer found worth keeping) are replayed by
//! `tests/corpus.rs` in the test command.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// A target: its name (its corpus directory) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("stomp_frame", stomp_frame),
    ("mqtt_packet", mqtt_packet),
    ("amqp1_message", amqp1_message),
    ("amqp091_frame", amqp091_frame),
    ("message_json", message_json),
    ("ams_pull", ams_pull),
    ("ams_push", ams_push),
    ("dirq_name", dirq_name),
    ("dqn_header", dqn_header),
    ("config_general", config_general),
    ("ams_publisher_ini", ams_publisher_ini),
    ("simplevisor_config", simplevisor_config),
    ("metrics_request", metrics_request),
];

/// Silences the agents' warnings (a message said text and is not UTF-8, …): the targets
/// meet thousands of such inputs a second.
pub fn quiet() {
    agent::log::set_quiet(true);
}

/// The target named `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// STOMP frames as stompclt's codec reads a connection (1.0, then 1.2 escaping), each
/// MESSAGE mapped as the receiver maps it.
pub fn stomp_frame(data: &[u8]) {
    for version in [
        stompclt::frame::Version::V1_0,
        stompclt::frame::Version::V1_2,
    ] {
        let mut codec = stompclt::frame::Codec::new(version, 64 << 20);
        let mut buf = BytesMut::from(data);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            if let stompclt::frame::Item::Frame(f) = item {
                let _ = stompclt::mapping::from_frame(f);
            }
        }
    }
}

/// MQTT 3.1.1 and 5 packets as mqttclt reads them, each PUBLISH mapped both ways the
/// receiver can (raw, JSON).
pub fn mqtt_packet(data: &[u8]) {
    use mqttclt::mapping::Payload;
    use mqttclt::packet::{In, Version};
    for version in [Version::V311, Version::V5] {
        let mut buf = BytesMut::from(data);
        while let Ok(Some(p)) = version.read(&mut buf) {
            if let In::Publish(p) = p {
                let _ = mqttclt::mapping::from_mqtt(&p, Payload::Raw);
                let _ = mqttclt::mapping::from_mqtt(&p, Payload::Json);
            }
        }
    }
}

/// An AMQP 1.0 message (its sections, as a transfer's payload carries them), mapped as
/// amqpclt's receiver maps it.
pub fn amqp1_message(data: &[u8]) {
    use fe2o3_amqp::types::messaging::Body;
    use fe2o3_amqp::types::messaging::message::DecodeIntoMessage;
    use fe2o3_amqp::types::primitives::Value;
    let reader = serde_amqp::read::SliceReader::new(data);
    if let Ok(m) = <Body<Value> as DecodeIntoMessage>::decode_message_from_reader(reader) {
        let _ = amqpclt::mapping::from_amqp(m, "/queue/fuzz");
    }
}

/// AMQP 0-9-1 frames; a content header's properties mapped as amqpclt's 0-9-1 receiver maps
/// a delivery's.
pub fn amqp091_frame(data: &[u8]) {
    use amq_protocol::frame::{AMQPFrame, parse_frame};
    let mut rest = data;
    while let Ok((next, frame)) = parse_frame(rest) {
        if let AMQPFrame::Header(_, header) = frame {
            let _ = amqpclt::amqp091::mapping::from_delivery(
                &header.properties,
                rest.to_vec(),
                "fuzz",
                "fuzz.key",
            );
        }
        if next.len() >= rest.len() {
            break;
        }
        rest = next;
    }
}

/// The JSON form of a message (a DQS element's content, amsclt's JSON payload), compressed
/// bodies included; a message decoded is encoded and decoded again to the same.
pub fn message_json(data: &[u8]) {
    if let Ok(m) = message::decode(data) {
        let again = message::Encoder::default().encode(&m);
        let back = message::decode(again.as_bytes()).expect("an encoded message decodes");
        assert_eq!(back, m, "the JSON form round-trips");
    }
}

/// The answer of a Pub/Sub or AMS pull, each message mapped both ways.
pub fn ams_pull(data: &[u8]) {
    use amsclt::mapping::Payload;
    let _ = amsclt::incoming::pulled(data, "fuzz", Payload::Raw);
    let _ = amsclt::incoming::pulled(data, "fuzz", Payload::Json);
}

/// The body of a push request to amsclt's endpoint (single or batched).
pub fn ams_push(data: &[u8]) {
    use amsclt::mapping::Payload;
    let _ = amsclt::push::messages(data, Payload::Raw);
    let _ = amsclt::push::messages(data, Payload::Json);
}

/// Directory queue names as a reader meets them in a directory listing.
pub fn dirq_name(data: &[u8]) {
    let _ = dirq::is_dir_name(data);
    let _ = dirq::is_element_name(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = dirq::is_full_name(s);
    }
}

/// A DQN element's `header` file (a dirq Normal table: escaped `KEY\tVALUE` lines); a table
/// decoded is encoded and decoded again to the same.
pub fn dqn_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = dirq::table::decode(text) {
        let again = dirq::table::encode(&t);
        assert_eq!(
            dirq::table::decode(&again).as_ref(),
            Ok(&t),
            "the table round-trips"
        );
    }
}

/// A Config::General file (the agents', python-amqpclt's), read as the agents read theirs (with and without
/// interpolation), then flattened into an agent's options.
pub fn config_general(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for interpolate in [false, true] {
        let opts = config_general::Options {
            interpolate,
            ..config_general::Options::default()
        };
        if let Ok(root) = config_general::parse_str(text, &opts) {
            let _ = config_general::agent_options(&root, "stompclt", &["subscribe"]);
        }
    }
}

/// ams-publisher's INI configuration.
pub fn ams_publisher_ini(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = amsclt::publisher::ini::parse(text);
    }
}

/// simplevisor's configuration (Config::General), parsed and checked.
pub fn simplevisor_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = simplevisor::config::parse_apache(text);
    }
}

/// A request to the metrics listener.
pub fn metrics_request(data: &[u8]) {
    let _ = metrics::route(data);
}
