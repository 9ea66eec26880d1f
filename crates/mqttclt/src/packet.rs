//! The MQTT packets an agent exchanges, both protocol versions behind one type. rumqttc's
//! codecs (its `mqttbytes` modules: 3.1.1 and 5) read and write the bytes; this module maps
//! the few packets mqttclt uses to and from them.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

/// The largest packet read (MQTT's own limit is 256 MiB).
pub const MAX_PACKET: usize = 256 * 1024 * 1024;

/// The protocol version of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1 (protocol level 4): topic, payload, QoS and retain only.
    V311,
    /// MQTT 5: with properties.
    V5,
}

/// A codec error: the peer's bytes, or a packet we cannot encode.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

/// MQTT 5 publish properties (none with 3.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    /// Payload format indicator 1: the payload is UTF-8 text.
    pub utf8: bool,
    /// Content type.
    pub content_type: Option<String>,
    /// Response topic.
    pub response_topic: Option<String>,
    /// Correlation data.
    pub correlation_data: Option<Bytes>,
    /// Message expiry interval, seconds.
    pub expiry: Option<u32>,
    /// User properties, in order (keys may repeat).
    pub user: Vec<(String, String)>,
}

/// A PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// Topic name.
    pub topic: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate delivery flag.
    pub dup: bool,
    /// Packet identifier (QoS > 0).
    pub pkid: u16,
    /// Payload.
    pub payload: Bytes,
    /// MQTT 5 properties.
    pub props: Option<Props>,
}

/// The will of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Bytes,
    /// QoS.
    pub qos: u8,
    /// Retain.
    pub retain: bool,
}

/// What a CONNECT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Client identifier.
    pub client_id: String,
    /// Keep-alive, seconds.
    pub keep_alive: u16,
    /// Clean session (3.1.1) or clean start (5).
    pub clean: bool,
    /// MQTT 5 session expiry interval, seconds.
    pub session_expiry: Option<u32>,
    /// MQTT 5 receive maximum (deliveries in flight to us).
    pub receive_maximum: Option<u16>,
    /// User name and password.
    pub login: Option<(String, String)>,
    /// The will.
    pub will: Option<Will>,
}

/// A packet from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum In {
    /// CONNACK: accepted (and whether a session was there), or why not.
    ConnAck {
        /// The broker had a session for this client id.
        session_present: bool,
        /// Why the connection was refused.
        refused: Option<String>,
        /// MQTT 5: how many QoS 1/2 publications the broker takes unacknowledged.
        receive_maximum: Option<u16>,
    },
    /// A delivery.
    Publish(Publish),
    /// A QoS 1 publication acknowledged, or refused (MQTT 5 reason code ≥ 0x80).
    PubAck {
        /// Packet identifier.
        pkid: u16,
        /// Why it was refused.
        refused: Option<String>,
    },
    /// The subscriptions' granted QoS, or why each was refused.
    SubAck {
        /// Packet identifier.
        pkid: u16,
        /// One per filter.
        granted: Vec<Result<u8, String>>,
    },
    /// Part of a QoS 2 exchange.
    QoS2(&'static str, u16),
    /// The answer to our PINGREQ.
    PingResp,
    /// The broker closes the connection (MQTT 5 says why).
    Disconnect(Option<String>),
    /// Anything else (an UNSUBACK, an AUTH).
    Other(&'static str),
}

/// A packet to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// CONNECT.
    Connect(Connect),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(u16),
    /// SUBSCRIBE to (filter, QoS) pairs.
    Subscribe(u16, Vec<(String, u8)>),
    /// PINGREQ.
    PingReq,
    /// DISCONNECT (normal).
    Disconnect,
}

fn qos4(q: u8) -> rumqttc::mqttbytes::QoS {
    match q {
        0 => rumqttc::mqttbytes::QoS::AtMostOnce,
        1 => rumqttc::mqttbytes::QoS::AtLeastOnce,
        _ => rumqttc::mqttbytes::QoS::ExactlyOnce,
    }
}

fn qos5(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    use rumqttc::v5::mqttbytes::QoS;
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

impl Version {
    /// The next packet in `buf` (consumed), or `None` when it is not all there yet.
    pub fn read(self, buf: &mut BytesMut) -> Result<Option<In>, CodecError> {
        match self {
            Version::V311 => match v4::Packet::read(buf, MAX_PACKET) {
                Ok(p) => Ok(Some(from_v4(p))),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
                Err(e) => Err(CodecError(e.to_string())),
            },
            Version::V5 => match v5::Packet::read(buf, Some(MAX_PACKET as u32)) {
                Ok(p) => Ok(Some(from_v5(p))),
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
                Err(e) => Err(CodecError(e.to_string())),
            },
        }
    }

    /// Appends a packet to `buf`.
    pub fn write(self, p: Out, buf: &mut BytesMut) -> Result<(), CodecError> {
        match self {
            Version::V311 => to_v4(p)
                .write(buf, MAX_PACKET)
                .map(drop)
                .map_err(|e| CodecError(e.to_string())),
            Version::V5 => to_v5(p)
                .write(buf, Some(MAX_PACKET as u32))
                .map(drop)
                .map_err(|e| CodecError(e.to_string())),
        }
    }
}

fn from_v4(p: v4::Packet) -> In {
    use v4::Packet as P;
    match p {
        P::ConnAck(c) => In::ConnAck {
            session_present: c.session_present,
            refused: (c.code != v4::ConnectReturnCode::Success).then(|| format!("{:?}", c.code)),
            receive_maximum: None,
        },
        P::Publish(p) => In::Publish(Publish {
            topic: p.topic,
            qos: p.qos as u8,
            retain: p.retain,
            dup: p.dup,
            pkid: p.pkid,
            payload: p.payload,
            props: None,
        }),
        P::PubAck(a) => In::PubAck {
            pkid: a.pkid,
            refused: None,
        },
        P::SubAck(s) => In::SubAck {
            pkid: s.pkid,
            granted: s
                .return_codes
                .into_iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(q) => Ok(q as u8),
                    v4::SubscribeReasonCode::Failure => Err("Failure".to_string()),
                })
                .collect(),
        },
        P::PubRec(r) => In::QoS2("PUBREC", r.pkid),
        P::PubRel(r) => In::QoS2("PUBREL", r.pkid),
        P::PubComp(r) => In::QoS2("PUBCOMP", r.pkid),
        P::PingResp => In::PingResp,
        P::Disconnect => In::Disconnect(None),
        P::UnsubAck(_) => In::Other("UNSUBACK"),
        P::Connect(_) | P::Subscribe(_) | P::Unsubscribe(_) | P::PingReq => {
            In::Other("a client's packet")
        }
    }
}

fn from_v5(p: v5::Packet) -> In {
    use v5::Packet as P;
    match p {
        P::ConnAck(c) => In::ConnAck {
            session_present: c.session_present,
            receive_maximum: c.properties.as_ref().and_then(|p| p.receive_max),
            refused: (c.code != v5::ConnectReturnCode::Success).then(|| {
                let why = c.properties.and_then(|p| p.reason_string);
                format!(
                    "{:?}{}",
                    c.code,
                    why.map(|w| format!(": {w}")).unwrap_or_default()
                )
            }),
        },
        P::Publish(p) => In::Publish(Publish {
            topic: String::from_utf8_lossy(&p.topic).into_owned(),
            qos: p.qos as u8,
            retain: p.retain,
            dup: p.dup,
            pkid: p.pkid,
            payload: p.payload,
            props: Some(p.properties.map(props_in).unwrap_or_default()),
        }),
        P::PubAck(a) => In::PubAck {
            pkid: a.pkid,
            refused: match a.reason {
                v5::PubAckReason::Success | v5::PubAckReason::NoMatchingSubscribers => None,
                r => Some(format!(
                    "{r:?}{}",
                    a.properties
                        .and_then(|p| p.reason_string)
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default()
                )),
            },
        },
        P::SubAck(s) => In::SubAck {
            pkid: s.pkid,
            granted: s
                .return_codes
                .into_iter()
                .map(|c| match c {
                    v5::SubscribeReasonCode::Success(q) => Ok(q as u8),
                    other => Err(format!("{other:?}")),
                })
                .collect(),
        },
        P::PubRec(r) => In::QoS2("PUBREC", r.pkid),
        P::PubRel(r) => In::QoS2("PUBREL", r.pkid),
        P::PubComp(r) => In::QoS2("PUBCOMP", r.pkid),
        P::PingResp(_) => In::PingResp,
        P::Disconnect(d) => In::Disconnect(Some(format!(
            "{:?}{}",
            d.reason_code,
            d.properties
                .and_then(|p| p.reason_string)
                .map(|w| format!(": {w}"))
                .unwrap_or_default()
        ))),
        P::UnsubAck(_) => In::Other("UNSUBACK"),
        P::Auth(_) => In::Other("AUTH"),
        P::Connect(..) | P::Subscribe(_) | P::Unsubscribe(_) | P::PingReq(_) => {
            In::Other("a client's packet")
        }
    }
}

fn props_in(p: v5::PublishProperties) -> Props {
    Props {
        utf8: p.payload_format_indicator == Some(1),
        content_type: p.content_type,
        response_topic: p.response_topic,
        correlation_data: p.correlation_data,
        expiry: p.message_expiry_interval,
        user: p.user_properties,
    }
}

fn props_out(p: Props) -> v5::PublishProperties {
    v5::PublishProperties {
        payload_format_indicator: p.utf8.then_some(1),
        message_expiry_interval: p.expiry,
        topic_alias: None,
        response_topic: p.response_topic,
        correlation_data: p.correlation_data,
        user_properties: p.user,
        subscription_identifiers: Vec::new(),
        content_type: p.content_type,
    }
}

fn to_v4(p: Out) -> v4::Packet {
    use v4::Packet as P;
    match p {
        Out::Connect(c) => {
            let mut connect = v4::Connect::new(c.client_id);
            connect.keep_alive = c.keep_alive;
            connect.clean_session = c.clean;
            connect.login = c.login.map(|(u, p)| v4::Login::new(u, p));
            connect.last_will = c
                .will
                .map(|w| v4::LastWill::new(w.topic, w.payload.to_vec(), qos4(w.qos), w.retain));
            P::Connect(connect)
        }
        Out::Publish(p) => {
            let mut publish = v4::Publish::from_bytes(p.topic, qos4(p.qos), p.payload);
            publish.retain = p.retain;
            publish.dup = p.dup;
            publish.pkid = p.pkid;
            P::Publish(publish)
        }
        Out::PubAck(pkid) => P::PubAck(v4::PubAck::new(pkid)),
        Out::Subscribe(pkid, filters) => {
            let mut s = v4::Subscribe::new_many(
                filters
                    .into_iter()
                    .map(|(f, q)| v4::SubscribeFilter::new(f, qos4(q))),
            );
            s.pkid = pkid;
            P::Subscribe(s)
        }
        Out::PingReq => P::PingReq,
        Out::Disconnect => P::Disconnect,
    }
}

fn to_v5(p: Out) -> v5::Packet {
    use v5::Packet as P;
    match p {
        Out::Connect(c) => {
            let properties =
                (c.session_expiry.is_some() || c.receive_maximum.is_some()).then(|| {
                    v5::ConnectProperties {
                        session_expiry_interval: c.session_expiry,
                        receive_maximum: c.receive_maximum,
                        max_packet_size: None,
                        topic_alias_max: None,
                        request_response_info: None,
                        request_problem_info: None,
                        user_properties: Vec::new(),
                        authentication_method: None,
                        authentication_data: None,
                    }
                });
            let connect = v5::Connect {
                keep_alive: c.keep_alive,
                client_id: c.client_id,
                clean_start: c.clean,
                properties,
            };
            let will = c.will.map(|w| v5::LastWill {
                topic: Bytes::from(w.topic),
                message: w.payload,
                qos: qos5(w.qos),
                retain: w.retain,
                properties: None,
            });
            let login = c.login.map(|(u, p)| v5::Login {
                username: u,
                password: p,
            });
            P::Connect(connect, will, login)
        }
        Out::Publish(p) => P::Publish(v5::Publish {
            dup: p.dup,
            qos: qos5(p.qos),
            retain: p.retain,
            topic: Bytes::from(p.topic),
            pkid: p.pkid,
            payload: p.payload,
            properties: p.props.map(props_out),
        }),
        Out::PubAck(pkid) => P::PubAck(v5::PubAck::new(pkid, None)),
        Out::Subscribe(pkid, filters) => P::Subscribe(v5::Subscribe {
            pkid,
            filters: filters
                .into_iter()
                .map(|(f, q)| v5::Filter {
                    path: f,
                    qos: qos5(q),
                    nolocal: false,
                    preserve_retain: false,
                    retain_forward_rule: v5::RetainForwardRule::OnEverySubscribe,
                })
                .collect(),
            properties: None,
        }),
        Out::PingReq => P::PingReq(v5::PingReq),
        Out::Disconnect => P::Disconnect(v5::Disconnect::new(
            v5::DisconnectReasonCode::NormalDisconnection,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_with_properties_survives_both_codecs() {
        for v in [Version::V311, Version::V5] {
            let props = (v == Version::V5).then(|| Props {
                utf8: true,
                content_type: Some("text/plain".into()),
                response_topic: Some("r/t".into()),
                correlation_data: Some(Bytes::from_static(b"c1")),
                expiry: None,
                user: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
            });
            let p = Publish {
                topic: "a/b".into(),
                qos: 1,
                retain: true,
                dup: false,
                pkid: 7,
                payload: Bytes::from_static(b"\0\xffhi"),
                props,
            };
            let mut buf = BytesMut::new();
            v.write(Out::Publish(p.clone()), &mut buf).expect("write");
            let mut half = buf.split_to(buf.len() / 2);
            assert_eq!(v.read(&mut half).expect("read"), None, "incomplete");
            half.unsplit(buf);
            let mut got = v.read(&mut half).expect("read").expect("whole");
            if let (In::Publish(g), Version::V311) = (&mut got, v) {
                g.props = None;
            }
            assert_eq!(got, In::Publish(p));
        }
    }
}
