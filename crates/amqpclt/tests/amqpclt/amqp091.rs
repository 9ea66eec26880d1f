//! AMQP 0-9-1 against RabbitMQ: every mode, the module choice, the destinations of the
//! reference, publisher confirms refusing what the broker cannot route, TLS.

use super::*;

#[test]
fn broker_amqp091_every_mode_moves_10000_mixed_messages() {
    let b = Broker::rabbitmq091();
    let (d, dest, sent) = test_support::queues::spooled(10_000, "amqp091");
    let stats = send_spool(&b, &d.path().join("in"));
    assert!(stats.starts_with("processed 10000 messages"), "{stats}");
    assert_eq!(queue_count(&d.path().join("in")), 0, "sent and removed");
    // broker → broker (a shovel from the queue to another), with batched acks
    let dest2 = unique_destination("amqp091-shovel");
    let mut args = s(&[
        "--reliable",
        "--batch",
        "50",
        "--count",
        "10000",
        "--timeout-inactivity",
        "20",
        "--header-set",
        &format!("destination={dest2}"),
    ]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(b.opts("incoming"));
    args.extend(b.opts("outgoing"));
    ok(&args);
    receive(&b, &dest2, 10_000, &d.path().join("out"));
    let got = drain(&d.path().join("out"), "DQS");
    let expected: Vec<_> = sent
        .iter()
        .cloned()
        .map(|m| m.with_header("destination", dest2.clone()))
        .collect();
    assert_eq!(compare(&expected, &got, "amqp091"), 0, "no duplicates");
    // and the first queue is empty: the shovel acknowledged everything it moved
    let left = receive_at_most(&b, &dest, &d.path().join("left"));
    assert_eq!(left, 0);
}

/// Drains what is left of `dest` (nothing expected) within a few seconds.
fn receive_at_most(b: &Broker, dest: &str, spool: &Path) -> usize {
    let mut args = s(&["--reliable", "--timeout-inactivity", "3"]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(spool))]);
    args.extend(b.opts("incoming"));
    ok(&args);
    queue_count(spool)
}

#[test]
fn broker_amqp091_topics_and_key_value_destinations() {
    let b = Broker::rabbitmq091();
    let d = tmp();
    let tag = unique_destination("kv").replace("/queue/", "");
    // a subscriber of /topic/T gets what is published to /topic/T while it listens
    let topic = format!("/topic/{tag}");
    let outq = d.path().join("topic");
    let mut args = s(&["--reliable", "--count", "20", "--timeout-inactivity", "20"]);
    args.extend(["--subscribe".into(), format!("destination={topic}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&outq))]);
    args.extend(b.opts("incoming"));
    let sub = std::process::Command::new(AMQPCLT)
        .args(&args)
        .spawn()
        .expect("subscriber");
    // its server-named queue is bound once it runs: publish until it has them all
    let sent = mixed(20, &topic);
    let inq = d.path().join("in");
    let mut rounds = 0;
    while queue_count(&outq) < 20 && rounds < 50 {
        if queue_count(&inq) == 0 {
            fill(&inq, "DQS", &sent);
        }
        let mut args = s(&["--reliable", "--remove"]);
        args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
        args.extend(b.opts("outgoing"));
        ok(&args);
        rounds += 1;
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, err) = test_support::bin::succeeded(sub);
    assert_eq!(queue_count(&outq), 20, "{err}");
    // key=value: a durable queue bound to a direct exchange of our own, with arguments
    let q = format!("queue=name%3D{tag}.q%2Cdurable%3Dtrue%2Carguments%3Dx-max-length%253D1000");
    let x = format!("exchange=name%3D{tag}.x%2Ctype%3Ddirect");
    let publish = format!("{x},routing_key=k1,mandatory=true");
    // the subscription declares and binds, then nothing is there yet: its keys at the
    // subscription's level, as the reference splits them
    let kv = d.path().join("kv");
    let mut args = s(&["--reliable", "--timeout-inactivity", "1"]);
    args.extend(["--subscribe".into(), format!("{q} {x} routing_key=k1")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&kv))]);
    args.extend(b.opts("incoming"));
    ok(&args);
    let sent = mixed(100, &publish);
    fill(&inq, "DQS", &sent);
    let mut pargs = s(&["--reliable", "--remove"]);
    pargs.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
    pargs.extend(b.opts("outgoing"));
    ok(&pargs);
    // the same subscription as one destination (comma separated), in a configuration
    // file (on the command line, values are URI-escaped once more, as stompclt's)
    let file = d.path().join("kv.conf");
    std::fs::write(
        &file,
        format!("<subscribe>\n  destination = {q},{x},routing_key=k1\n</subscribe>\n"),
    )
    .expect("conf");
    args[2] = "5".into();
    args.splice(3..5, ["--conf".to_string(), p(&file)]);
    ok(&args);
    assert_eq!(compare(&sent, &drain(&kv, "DQS"), "key=value"), 0);
}

#[test]
fn broker_amqp091_refusals_fail_with_one_line_and_remove_nothing() {
    let b = Broker::rabbitmq091();
    let d = tmp();
    let inq = d.path().join("in");
    let cases = [
        // an exchange that does not exist (amq.* is never declared): 404 NOT_FOUND
        ("exchange=name%3Damq.msgtk.none routing_key=k", "NOT_FOUND"),
        // routable nowhere, and mandatory: returned (312 NO_ROUTE)
        (
            "exchange=name%3Damq.direct routing_key=msgtk.nobody.listens mandatory=true",
            "returned a message",
        ),
    ];
    for (dest, says) in cases {
        fill(&inq, "DQS", &mixed(5, dest));
        let mut args = s(&["--reliable", "--remove"]);
        args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
        args.extend(b.opts("outgoing"));
        let err = one_line_error(&run(&args), 4);
        assert!(err.contains(says), "{dest}: {err}");
        assert_eq!(queue_count(&inq), 5, "{dest}: nothing removed");
        std::fs::remove_dir_all(&inq).expect("clean");
    }
    // a destination that is no destination: the message is refused before any publish
    fill(&inq, "DQS", &mixed(1, "colour=red"));
    let mut args = s(&["--reliable", "--remove"]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
    args.extend(b.opts("outgoing"));
    // a bad message of the incoming queue: exit 6, naming the element
    let err = one_line_error(&run(&args), 6);
    assert!(err.contains("unknown key \"colour\""), "{err}");
    assert_eq!(queue_count(&inq), 1);
}

#[test]
fn broker_no_module_named_speaks_091_to_rabbitmq_and_10_to_the_proton_broker() {
    for b in &brokers() {
        let (d, dest, sent) = test_support::queues::spooled(50, &format!("auto-{}", b.name));
        let mut args = s(&["--reliable", "--remove", "-d", "--incoming-queue"]);
        args.push(format!("path={}", p(&d.path().join("in"))));
        args.extend(["--outgoing-broker-uri".into(), b.uri.clone()]);
        if let Some(a) = &b.auth {
            args.extend(["--outgoing-broker-auth".into(), a.clone()]);
        }
        let out = run(&args);
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let spoke = if b.name == "rabbitmq" {
            "(AMQP 0-9-1)"
        } else {
            "(AMQP 1.0)"
        };
        assert!(err.contains(spoke), "{}: {err}", b.name);
        // received the same way (RabbitMQ 3.10 does not turn 0-9-1 headers into AMQP 1.0
        // application properties: see the README's table)
        let mut args = s(&["--reliable", "--count", "50", "--timeout-inactivity", "20"]);
        args.extend(["--subscribe".into(), format!("destination={dest}")]);
        args.extend([
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("out"))),
        ]);
        args.extend(["--incoming-broker-uri".into(), b.uri.clone()]);
        if let Some(a) = &b.auth {
            args.extend(["--incoming-broker-auth".into(), a.clone()]);
        }
        ok(&args);
        assert_eq!(
            compare(&sent, &drain(&d.path().join("out"), "DQS"), "auto"),
            0
        );
    }
    // named explicitly, 0-9-1 to a broker that speaks only 1.0 says so
    let proton = brokers()
        .into_iter()
        .find(|b| b.name == "proton")
        .expect("proton in AMQP_BROKERS");
    let mut args = s(&["--subscribe", "destination=/queue/x", "--outgoing-queue"]);
    args.push(format!("path={}", p(&tmp().path().join("q"))));
    args.extend(s(&[
        "--incoming-broker-uri",
        &proton.uri,
        "--incoming-broker-module",
        "pika",
    ]));
    let err = one_line_error(&run(&args), 4);
    assert!(err.contains("does not speak AMQP 0-9-1"), "{err}");
}

#[test]
fn broker_amqp091_over_tls_with_plain_and_x509_credentials() {
    let addr = std::env::var("AMQPS_RABBITMQ").expect("AMQPS_RABBITMQ (scripts/test.sh)");
    let pki = std::env::var("STOMP_TLS_DIR").expect("STOMP_TLS_DIR (scripts/test.sh)");
    let port = addr.rsplit_once(':').expect("HOST:PORT").1;
    let x509 =
        format!("x509 cert={pki}/client.pem key={pki}/client-enc.key pass=secret ca={pki}/cadir");
    for auth in [
        vec![x509.clone()],
        vec![x509.clone(), "plain name=guest pass=guest".into()],
    ] {
        let (d, dest, sent) = test_support::queues::spooled(100, "amqp091-tls");
        let side = |dir: &str| {
            let mut v = vec![
                format!("--{dir}-broker-uri"),
                // the name the server's certificate carries, verified
                format!("amqps://localhost:{port}"),
                format!("--{dir}-broker-module"),
                "pika".into(),
            ];
            for a in &auth {
                v.extend([format!("--{dir}-broker-auth"), a.clone()]);
            }
            v
        };
        let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
        args.push(format!("path={}", p(&d.path().join("in"))));
        args.extend(side("outgoing"));
        ok(&args);
        let mut args = s(&["--reliable", "--count", "100", "--timeout-inactivity", "10"]);
        args.extend(["--subscribe".into(), format!("destination={dest}")]);
        args.extend([
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("out"))),
        ]);
        args.extend(side("incoming"));
        ok(&args);
        assert_eq!(
            compare(&sent, &drain(&d.path().join("out"), "DQS"), "tls"),
            0
        );
    }
}
