//! Writes the seed inputs of every target into fuzz/corpus/TARGET/seed-N: a few well-formed
//! inputs of each decoder (made by the toolkit's own encoders where it has them), from which
//! libFuzzer mutates. `cargo run -p fuzz --example seeds`; the fuzzer's finds go beside them.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, seeds) in seeds() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), s)?;
        }
    }
    Ok(())
}

fn messages() -> Vec<message::Message> {
    vec![
        message::Message::text("hello").with_header("destination", "/queue/a"),
        message::Message::binary(vec![0, 1, 2, 255])
            .with_header("destination", "/topic/b")
            .with_header("content-type", "application/octet-stream")
            .with_header("message-id", "id-1")
            .with_header("persistent", "true")
            .with_header("x-custom", "é"),
    ]
}

fn amqp1() -> Vec<Vec<u8>> {
    use fe2o3_amqp::types::messaging::message::__private::Serializable;
    messages()
        .iter()
        .map(|m| {
            let a = amqpclt::mapping::to_amqp(m).expect("maps");
            serde_amqp::to_vec(&Serializable(a)).expect("encodes")
        })
        .collect()
}

/// A content header frame (class 60, properties content-type and headers {k: "v"}) and a
/// body frame, as a broker sends a delivery's content.
fn amqp091() -> Vec<Vec<u8>> {
    let mut payload = vec![0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0xA0, 0x00, 10];
    payload.extend_from_slice(b"text/plain");
    payload.extend_from_slice(&[0, 0, 0, 8, 1, b'k', b'S', 0, 0, 0, 1, b'v']);
    let mut header = vec![2, 0, 1];
    header.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    header.extend_from_slice(&payload);
    header.push(0xCE);
    let mut with_body = header.clone();
    with_body.extend_from_slice(&[3, 0, 1, 0, 0, 0, 5]);
    with_body.extend_from_slice(b"hello");
    with_body.push(0xCE);
    vec![header, with_body, b"AMQP\x00\x00\x09\x01".to_vec()]
}

fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let json: Vec<Vec<u8>> = messages()
        .iter()
        .map(|m| message::Encoder::default().encode(m).into_bytes())
        .chain([
            br#"{"header":{"a":"b"},"body":"eJzLSM3JyQcABiwCFQ==","encoding":"base64+zlib"}"#
                .to_vec(),
            br#"{"body":"aGVsbG8=","encoding":"base64"}"#.to_vec(),
        ])
        .collect();
    vec![
        (
            "stomp_frame",
            vec![
                b"MESSAGE\ndestination:/queue/a\ncontent-length:5\n\nhello\0".to_vec(),
                b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0\n".to_vec(),
                b"MESSAGE\nk\\c:v\\n\\\\\nmessage-id:1\n\nbody\0ERROR\nmessage:no\n\n\0".to_vec(),
                b"RECEIPT\nreceipt-id:7\n\n\0".to_vec(),
            ],
        ),
        (
            "mqtt_packet",
            vec![
                vec![0x20, 0x02, 0x00, 0x00],
                vec![0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, b'h', b'i'],
                vec![0x40, 0x02, 0x00, 0x01],
                vec![0x32, 0x0a, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, 0x00, b'h', b'i'],
            ],
        ),
        ("amqp1_message", amqp1()),
        ("amqp091_frame", amqp091()),
        ("message_json", json.clone()),
        (
            "ams_pull",
            vec![
                br#"{"receivedMessages":[{"ackId":"a1","message":{"data":"aGVsbG8=","messageId":"1","attributes":{"k":"v"},"publishTime":"2026-12-06T00:00:00Z"}}]}"#.to_vec(),
                br#"{"receivedMessages":[{"ackId":"projects/p/subscriptions/s:1","message":{"data":"eyJib2R5IjoiaGkifQ==","messageId":"2"}}]}"#.to_vec(),
                b"{}".to_vec(),
            ],
        ),
        (
            "ams_push",
            vec![
                br#"{"message":{"data":"aGVsbG8=","messageId":"1","attributes":{"k":"v"}},"subscription":"projects/p/subscriptions/s"}"#.to_vec(),
                br#"{"messages":[{"message":{"data":"aGk=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}]}"#.to_vec(),
            ],
        ),
        (
            "dirq_name",
            vec![
                b"0000002a".to_vec(),
                b"4fa3b8d1e2c3f0".to_vec(),
                b"0000002a/4fa3b8d1e2c3f0".to_vec(),
                b"../etc".to_vec(),
            ],
        ),
        (
            "dqn_header",
            vec![
                b"destination\t/queue/a\npersistent\ttrue\n".to_vec(),
                b"k\\x09ey\tva\\x0alue\n".to_vec(),
            ],
        ),
        (
            "config_general",
            vec![
                b"<stompclt>\n  incoming-queue = path=/var/spool/x\n  <outgoing-broker-connect>\n    host /\n  </outgoing-broker-connect>\n  subscribe = destination=/queue/a\n  subscribe = destination=/queue/b\n</stompclt>\n".to_vec(),
                b"a = 1\nb = $a\n<<include other.conf>>\nc <<EOT\nmulti\nline\nEOT\n# comment\nd = x \\\n  continued\n".to_vec(),
            ],
        ),
        (
            "ams_publisher_ini",
            vec![
                b"[General]\nHost = msg.argo.grnet.gr\nRunAsUser = nagios\n\n[Queue_Metrics]\nDirectory = /var/spool/argo/metrics\nRate = 10\nPurge = True\n\n[Topic_Metrics]\nHost = localhost\nKey = k\nProject = p\nTopic = metrics\nMsgType = metric_data\nAvro = False\nBulkSize = 100\n".to_vec(),
            ],
        ),
        (
            "simplevisor_config",
            vec![
                b"<simplevisor>\n  interval = 60\n  log = stdout\n</simplevisor>\n<entry>\n  type = supervisor\n  name = agents\n  strategy = one_for_one\n  <children>\n    <entry>\n      type = service\n      name = sender\n      start = /bin/true\n    </entry>\n  </children>\n</entry>\n".to_vec(),
            ],
        ),
        (
            "metrics_request",
            vec![
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                b"HEAD / HTTP/1.0\r\n\r\n".to_vec(),
                b"POST /metrics?x=1 HTTP/1.1\r\n\r\n".to_vec(),
            ],
        ),
    ]
}
