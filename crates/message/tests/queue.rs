//! DQS, DQN and NULL message queues and their option strings.

use std::fs;

use message::{Error, Message, MessageQueue, QueueKind, QueueOptions};

#[test]
fn option_strings() {
    let o: QueueOptions = "path=/tmp/x type=DQN umask=022 maxelts=100 nlink=1"
        .parse()
        .expect("valid");
    assert_eq!(o.kind, QueueKind::Dqn);
    assert_eq!(o.dirq.umask, Some(0o22));
    assert_eq!(o.dirq.maxelts, 100);
    let o: QueueOptions = "path=/tmp/x compression=zlib! granularity=5 maxlock=30 maxtemp=10"
        .parse()
        .expect("valid");
    assert_eq!(o.kind, QueueKind::Dqs, "DQS is the default");
    assert_eq!(o.encoder.to_string(), "zlib!");
    assert_eq!(
        (o.dirq.granularity, o.dirq.maxlock, o.dirq.maxtemp),
        (5, 30, 10)
    );
    assert_eq!(
        "type=NULL".parse::<QueueOptions>().expect("valid").kind,
        QueueKind::Null
    );
    let bad = |s: &str| s.parse::<QueueOptions>().expect_err(s).to_string();
    assert_eq!(
        bad("type=DQS"),
        "invalid queue option: a DQS queue needs path="
    );
    assert_eq!(
        bad("path=/x type=FOO"),
        "invalid queue option: unknown queue type \"FOO\" (DQS, DQN or NULL)"
    );
    assert_eq!(
        bad("path=/x colour=blue"),
        "invalid queue option: unknown option \"colour\" for a DQS queue"
    );
    assert_eq!(
        bad("path=/x type=DQN compression=zlib"),
        "invalid queue option: unknown option \"compression\" for a DQN queue"
    );
    assert_eq!(
        bad("type=NULL path=/x"),
        "invalid queue option: the NULL queue takes no options (got path=/x)"
    );
    assert!(bad("path=/x compression=gzip").contains("unsupported compression \"gzip\""));
    assert!(bad("path=/x umask=abc").contains("umask"));
    assert!(bad("path=/x oops").contains("is not KEY=VALUE"));
}

#[test]
fn dqs_stores_the_serialized_message() {
    let d = tempfile::tempdir().expect("tmp");
    let q = MessageQueue::open_str(&format!("path={}", d.path().display())).expect("open");
    let m = Message::text("hello\tworld").with_header("k", "v");
    let n = q.add_message(&m).expect("add");
    assert_eq!(
        fs::read_to_string(d.path().join(&n)).expect("read"),
        r#"{"header":{"k":"v"},"body":"hello\tworld","text":true}"#
    );
    assert!(q.dirq().lock(&n).expect("lock"));
    assert_eq!(q.get_message(&n).expect("get"), m);
}

#[test]
fn dqn_layout() {
    let d = tempfile::tempdir().expect("tmp");
    let q = MessageQueue::open_str(&format!("type=DQN path={}", d.path().display())).expect("open");
    let t = Message::text("x")
        .with_header("a\tb", "x\ny")
        .with_header("destination", "/queue/test");
    let b = Message::binary(&b"\0\xff"[..]);
    let nt = q.add_message(&t).expect("add");
    let nb = q.add_message(&b).expect("add");
    let dir = d.path().join(&nt);
    assert_eq!(
        fs::read(dir.join("header")).expect("header"),
        b"a\\tb\tx\\ny\ndestination\t/queue/test\n"
    );
    assert_eq!(fs::read(dir.join("text")).expect("text"), b"x");
    assert!(!dir.join("binary").exists());
    assert_eq!(
        fs::read(d.path().join(&nb).join("binary")).expect("bin"),
        b"\0\xff"
    );
    assert_eq!(
        fs::read(d.path().join(&nb).join("header")).expect("hdr"),
        b""
    );
    for (n, m) in [(&nt, &t), (&nb, &b)] {
        q.dirq().lock(n).expect("lock");
        assert_eq!(&q.get_message(n).expect("get"), m);
    }
}

#[test]
fn corrupt_dqs_element_names_its_path() {
    let d = tempfile::tempdir().expect("tmp");
    let q = MessageQueue::open_str(&format!("path={}", d.path().display())).expect("open");
    let n = q.add_message(&Message::text("x")).expect("add");
    fs::write(
        d.path().join(&n),
        b"{\"body\":\"x\",\"encoding\":\"rot13\"}",
    )
    .expect("corrupt");
    q.dirq().lock(&n).expect("lock");
    let e = q.get_message(&n).expect_err("corrupt");
    assert!(matches!(e, Error::Corrupt { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: invalid message: decoding not supported: \"rot13\"",
            d.path().join(&n).display()
        )
    );
}

#[test]
fn null_queue_swallows() {
    let q = MessageQueue::open_str("type=NULL").expect("open");
    assert_eq!(q.add_message(&Message::text("x")).expect("add"), "");
    assert_eq!(q.dirq().count().expect("count"), 0);
    assert!(q.names().next().is_none());
    assert!(q.get_message("00000000/00000000000000").is_err());
}
