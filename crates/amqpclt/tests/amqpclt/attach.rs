//! A link whose attach is cut by a lost connection (a cluster node that accepts a connection
//! and drops it while its queues move to another node) is a lost connection: exit 5 without
//! `--reconnect`, recovered with it, and a recovery so cut short loses nothing it held; not
//! the broker's refusal (exit 4, final). A proxy of the test's own in front of the Qpid
//! Proton broker cuts the connections it is told to at the client's first attach, or after
//! so many of its frames (no broker does this on demand).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

/// What the proxy does with a connection.
#[derive(Clone, Copy)]
enum Plan {
    Pass,
    /// cut where the client attaches a link
    CutAtAttach,
    /// cut after passing on so many of the client's frames
    CutAfter(usize),
}

/// Forwards connections to `upstream`, the n-th as the n-th plan says (connections past the
/// plan pass).
struct Proxy {
    port: u16,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String, plan: &[Plan]) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let plan = Arc::new(Mutex::new(plan.iter().copied().collect::<VecDeque<_>>()));
        let open = Arc::new(Mutex::new(Vec::new()));
        let held = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let cut = plan.lock().expect("plan").pop_front().unwrap_or(Plan::Pass);
                let mut held = held.lock().expect("open");
                held.extend(
                    [client.try_clone(), server.try_clone()]
                        .into_iter()
                        .flatten(),
                );
                let (mut from_server, mut to_client) = (
                    server.try_clone().expect("clone"),
                    client.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(Shutdown::Both);
                });
                std::thread::spawn(move || forward_frames(client, server, cut));
            }
        });
        Proxy { port, open }
    }

    /// Drops every connection made so far, as a node that dies.
    fn drop_all(&self) {
        for c in self.open.lock().expect("open").drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

/// Copies the client's protocol headers and frames to the server, and cuts both as `plan`
/// says.
fn forward_frames(mut client: TcpStream, mut server: TcpStream, plan: Plan) {
    let mut head = [0u8; 4];
    let mut frames = 0;
    while client.read_exact(&mut head).is_ok() {
        let mut frame = head.to_vec();
        let rest = if &head == b"AMQP" {
            4
        } else {
            (u32::from_be_bytes(head) as usize).saturating_sub(4)
        };
        frame.resize(4 + rest, 0);
        if client.read_exact(&mut frame[4..]).is_err() {
            break;
        }
        // an AMQP frame (type 0) whose body opens with the attach descriptor (0x00 0x53 0x12)
        let doff = usize::from(frame.get(4).copied().unwrap_or(2)) * 4;
        let attach = &head != b"AMQP"
            && frame.get(5) == Some(&0)
            && frame.get(doff..doff + 3) == Some(&[0x00, 0x53, 0x12][..]);
        match plan {
            Plan::CutAtAttach if attach => break,
            Plan::CutAfter(n) if frames == n => break,
            _ => {}
        }
        if server.write_all(&frame).is_err() {
            break;
        }
        frames += 1;
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

fn proton() -> Broker {
    brokers()
        .into_iter()
        .find(|b| b.name == "proton")
        .expect("proton in AMQP_BROKERS")
}

fn addr(b: &Broker) -> String {
    b.uri.trim_start_matches("amqp://").to_string()
}

fn via(proxy: &Proxy, dir: &str) -> Vec<String> {
    s(&[
        &format!("--{dir}-broker-uri"),
        &format!(
            "failover:(amqp://127.0.0.1:{})?maxReconnectDelay=200",
            proxy.port
        ),
        &format!("--{dir}-broker-module"),
        "amqp1",
    ])
}

#[test]
fn broker_a_connection_lost_at_attach_is_no_refusal_and_is_recovered_sending() {
    let b = proton();
    let d = tmp();
    let dest = unique_destination("attach-send");
    let sent = mixed(3, &dest);
    let inq = d.path().join("in");
    // without --reconnect: a lost connection (5), nothing removed
    let proxy = Proxy::start(addr(&b), &[Plan::CutAtAttach]);
    fill(&inq, "DQS", &sent);
    let mut args = s(&["--reliable", "--remove"]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
    args.extend(via(&proxy, "outgoing"));
    let err = one_line_error(&run(&args), 5);
    assert!(err.contains("connection lost before the link to"), "{err}");
    assert_eq!(queue_count(&inq), 3, "nothing removed");
    // with --reconnect: connected again, the messages sent
    let proxy = Proxy::start(addr(&b), &[Plan::CutAtAttach]);
    let mut args = s(&["--reliable", "--remove", "--reconnect", "-s"]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
    args.extend(via(&proxy, "outgoing"));
    let stats = ok(&args);
    assert!(stats.contains("reconnected 1 times"), "{stats}");
    assert_eq!(queue_count(&inq), 0, "all sent");
    let outq = d.path().join("out");
    receive(&b, &dest, 3, &outq);
    assert_eq!(compare(&sent, &drain(&outq, "DQS"), "attach cut"), 0);
}

#[test]
fn broker_a_connection_lost_at_attach_while_recovering_is_recovered_again_receiving() {
    let b = proton();
    let d = tmp();
    let dest = unique_destination("attach-recv");
    let (first, second) = (mixed(3, &dest), mixed(3, &dest));
    let (inq, outq) = (d.path().join("in"), d.path().join("out"));
    fill(&inq, "DQS", &first);
    send_spool(&b, &inq);
    // the first connection passes; the node then dies, and the next one drops the agent at
    // its attach; the third holds
    let proxy = Proxy::start(addr(&b), &[Plan::Pass, Plan::CutAtAttach]);
    let mut args = s(&["--reliable", "--reconnect", "-s", "--count", "6"]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&outq))]);
    args.extend(via(&proxy, "incoming"));
    let agent = spawn(args);
    test_support::process::wait_until(
        "the first messages received",
        Duration::from_secs(30),
        || queue_count(&outq) >= 3,
    );
    proxy.drop_all();
    fill(&inq, "DQS", &second);
    send_spool(&b, &inq);
    let (stats, err) = test_support::bin::succeeded(agent);
    assert!(
        err.contains("connection lost before the link to"),
        "the attach was cut: {err}"
    );
    assert!(stats.contains("processed 6 messages"), "{stats}{err}");
    let mut sent = first;
    sent.extend(second);
    let got = drain(&outq, "DQS");
    compare(&sent, &got, "attach cut while recovering");
}

#[test]
fn broker_a_recovery_cut_at_attach_keeps_what_it_was_to_send_again() {
    let b = proton();
    let d = tmp();
    let dest = unique_destination("attach-resend");
    let n = 3000;
    let sent = mixed(n, &dest);
    let (inq, outq) = (d.path().join("in"), d.path().join("out"));
    fill(&inq, "DQS", &sent);
    // the first connection dies with messages in flight (after 1000 of the client's frames);
    // the recovery's connection is cut where it attaches its link again; the third holds
    let proxy = Proxy::start(addr(&b), &[Plan::CutAfter(1000), Plan::CutAtAttach]);
    let mut args = s(&[
        "--reliable",
        "--remove",
        "--reconnect",
        "--window",
        "500",
        "-s",
    ]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
    args.extend(via(&proxy, "outgoing"));
    let out = run(&args);
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{se}");
    assert!(
        se.contains("connection lost before the link to"),
        "the recovery's attach was cut: {se}"
    );
    assert!(so.contains("reconnected 1 times"), "{so}");
    assert_eq!(queue_count(&inq), 0, "everything sent and confirmed");
    let resent = test_support::bin::number_after(&so, "reconnected 1 times: ");
    // everything the broker has (what the first connection had on the wire may be there
    // twice), never anything lost
    let mut args = s(&["--reliable", "--timeout-inactivity", "2"]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&outq))]);
    args.extend(b.opts("incoming"));
    ok(&args);
    let dups = compare(&sent, &drain(&outq, "DQS"), "recovery cut at attach");
    assert!(dups <= resent, "{dups} duplicates, {resent} sent again");
}
