//! SASL EXTERNAL, done here: fe2o3-amqp allows EXTERNAL only over a TLS stream it made
//! itself, while the agent's dialer makes ours (the same x509 and `SSL_*` handling as
//! stompclt). The exchange is short — headers, the server's mechanisms, our init, its
//! outcome — after which the stream goes to fe2o3-amqp without a SASL profile, exactly where
//! its own negotiation would have left it (AMQP 1.0 part 5.3). fe2o3-amqp's SASL frame codec
//! encodes and decodes the frame bodies.

use bytes::{BufMut, BytesMut};
use fe2o3_amqp::frames::sasl::{Frame, FrameCodec};
use fe2o3_amqp::types::primitives::{Binary, Symbol};
use fe2o3_amqp::types::sasl::{SaslCode, SaslInit};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder};

/// The SASL protocol header, sent and expected back.
const SASL_HEADER: &[u8; 8] = b"AMQP\x03\x01\x00\x00";

/// The largest SASL frame read (the spec's minimum max-frame-size is 512; mechanisms lists
/// and outcomes are far smaller).
const MAX_FRAME: usize = 64 * 1024;

/// Why SASL EXTERNAL did not log us in.
#[derive(Debug, thiserror::Error)]
pub enum SaslError {
    /// Reading or writing the stream failed.
    #[error("SASL exchange: {0}")]
    Io(#[from] std::io::Error),
    /// The peer's bytes are not the SASL protocol it should speak.
    #[error("SASL exchange: {0}")]
    Protocol(String),
    /// The peer does not offer EXTERNAL.
    #[error("the broker does not offer SASL EXTERNAL (it offers: {0})")]
    NotOffered(String),
    /// The peer refused the certificate's identity.
    #[error("SASL EXTERNAL refused ({0:?}): the client certificate is not a user there")]
    Refused(SaslCode),
}

impl SaslError {
    /// The broker said no (as opposed to a connection that failed).
    pub fn refused(&self) -> bool {
        matches!(self, SaslError::NotOffered(_) | SaslError::Refused(_))
    }
}

/// Logs in with SASL EXTERNAL (the identity is the TLS client certificate), asking for
/// `hostname`.
pub async fn external<S>(stream: &mut S, hostname: &str) -> Result<(), SaslError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(SASL_HEADER).await?;
    stream.flush().await?;
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await?;
    if &header != SASL_HEADER {
        return Err(SaslError::Protocol(format!(
            "the broker answered the SASL header with {header:02x?}"
        )));
    }
    let offered = match read_frame(stream).await? {
        Frame::Mechanisms(m) => m.sasl_server_mechanisms.0,
        other => return Err(unexpected(&other)),
    };
    if !offered.iter().any(|m| m.as_str() == "EXTERNAL") {
        let names: Vec<&str> = offered.iter().map(|m| m.as_str()).collect();
        return Err(SaslError::NotOffered(names.join(" ")));
    }
    write_frame(
        stream,
        Frame::Init(SaslInit {
            mechanism: Symbol::from("EXTERNAL"),
            // empty: the identity the certificate names
            initial_response: Some(Binary::from(Vec::new())),
            hostname: Some(hostname.to_string()),
        }),
    )
    .await?;
    match read_frame(stream).await? {
        Frame::Outcome(o) if matches!(o.code, SaslCode::Ok) => Ok(()),
        Frame::Outcome(o) => Err(SaslError::Refused(o.code)),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(f: &Frame) -> SaslError {
    let name = match f {
        Frame::Mechanisms(_) => "sasl-mechanisms",
        Frame::Init(_) => "sasl-init",
        Frame::Challenge(_) => "sasl-challenge",
        Frame::Response(_) => "sasl-response",
        Frame::Outcome(_) => "sasl-outcome",
    };
    SaslError::Protocol(format!("unexpected {name} frame"))
}

async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Frame, SaslError> {
    let size = stream.read_u32().await? as usize;
    if !(8..=MAX_FRAME).contains(&size) {
        return Err(SaslError::Protocol(format!("a SASL frame of {size} bytes")));
    }
    let mut body = BytesMut::zeroed(size - 4);
    stream.read_exact(&mut body).await?;
    FrameCodec {}
        .decode(&mut body)
        .map_err(|e| SaslError::Protocol(e.to_string()))?
        .ok_or_else(|| SaslError::Protocol("an empty SASL frame".into()))
}

async fn write_frame<S: AsyncWrite + Unpin>(stream: &mut S, f: Frame) -> Result<(), SaslError> {
    let mut body = BytesMut::new();
    FrameCodec {}
        .encode(f, &mut body)
        .map_err(|e| SaslError::Protocol(e.to_string()))?;
    let mut frame = BytesMut::with_capacity(body.len() + 4);
    frame.put_u32(body.len() as u32 + 4);
    frame.extend_from_slice(&body);
    stream.write_all(&frame).await?;
    stream.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer's side, bytes as the spec lays them out: the exchange against a scripted
    /// server (real brokers are in tests/amqpclt/tls.rs).
    async fn serve(mechanisms: &[&str], code: SaslCode) -> (Result<(), SaslError>, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let mechs: Vec<Symbol> = mechanisms.iter().map(|m| Symbol::from(*m)).collect();
        let peer = async move {
            let mut h = [0u8; 8];
            server.read_exact(&mut h).await.expect("header");
            assert_eq!(&h, SASL_HEADER);
            server.write_all(SASL_HEADER).await.expect("header");
            let m = fe2o3_amqp::types::sasl::SaslMechanisms {
                sasl_server_mechanisms: mechs.into(),
            };
            write_frame(&mut server, Frame::Mechanisms(m))
                .await
                .expect("mechanisms");
            let mut seen = Vec::new();
            if let Ok(Frame::Init(init)) = read_frame(&mut server).await {
                seen = init.mechanism.as_str().as_bytes().to_vec();
                let o = fe2o3_amqp::types::sasl::SaslOutcome {
                    code,
                    additional_data: None,
                };
                write_frame(&mut server, Frame::Outcome(o))
                    .await
                    .expect("outcome");
            }
            seen
        };
        let ours = async move {
            let r = external(&mut client, "localhost").await;
            drop(client); // the peer then sees the end of the stream
            r
        };
        tokio::join!(ours, peer)
    }

    #[tokio::test]
    async fn external_logs_in_refuses_and_names_what_is_offered() {
        let (r, seen) = serve(&["PLAIN", "EXTERNAL"], SaslCode::Ok).await;
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(seen, b"EXTERNAL");
        let (r, _) = serve(&["EXTERNAL"], SaslCode::Auth).await;
        let e = r.expect_err("refused");
        assert!(
            e.refused() && e.to_string().contains("SASL EXTERNAL refused"),
            "{e}"
        );
        let (r, seen) = serve(&["PLAIN", "AMQPLAIN"], SaslCode::Ok).await;
        let e = r.expect_err("not offered");
        assert!(seen.is_empty());
        assert_eq!(
            e.to_string(),
            "the broker does not offer SASL EXTERNAL (it offers: PLAIN AMQPLAIN)"
        );
    }
}
