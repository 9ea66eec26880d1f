//! The configuration reader's unit tests.
use super::*;

fn svc(cfg: &Config) -> Vec<&ServiceSpec> {
    fn walk<'a>(e: &'a EntrySpec, out: &mut Vec<&'a ServiceSpec>) {
        match e {
            EntrySpec::Service(s) => out.push(s),
            EntrySpec::Supervisor(s) => s.children.iter().for_each(|c| walk(c, out)),
        }
    }
    let mut v = Vec::new();
    walk(cfg.root.as_ref().expect("root"), &mut v);
    v
}

#[test]
fn reference_example_with_interpolation_and_defaults() {
    let c = parse_apache(
        "<simplevisor>\n interval = 30\n log = file\n logfile = /tmp/x.log\n</simplevisor>\n\
         <entry>\n type = supervisor\n name = top\n var_base = /opt/b\n <children>\n\
         <entry>\n type = service\n name = httpd\n control = /sbin/service httpd\n</entry>\n\
         <entry>\n type = service\n name = worker\n start = ${var_base}/bin/w --label hello%20world\n daemon = ${var_base}/run/w.pid\n timeout = 20\n</entry>\n\
         <entry>\n type = service\n name = custom\n start = /c start\n stop = /c stop\n status = /c status\n</entry>\n\
         </children>\n</entry>\n",
    )
    .expect("valid");
    assert_eq!(c.global.interval, Some(30));
    let s = svc(&c);
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].mode, Mode::Control);
    assert_eq!(
        s[1].mode,
        Mode::Owned {
            pidfile: Some("/opt/b/run/w.pid".into())
        }
    );
    assert_eq!(s[1].timeout, Duration::from_secs(20));
    assert_eq!(
        split_command(s[1].start.as_deref().expect("start")),
        ["/opt/b/bin/w", "--label", "hello world"]
    );
    assert_eq!(s[2].mode, Mode::Commands);
    let EntrySpec::Supervisor(top) = c.root.as_ref().expect("root") else {
        panic!("supervisor")
    };
    assert_eq!((top.window, top.adjustments), (12, 3));
}

#[test]
fn every_rule_is_an_error_naming_the_place() {
    let wrap = |body: &str| {
        format!(
            "<entry>\ntype = supervisor\nname = top\n<children>\n<entry>\ntype = service\nname = s\n{body}\n</entry>\n</children>\n</entry>\n"
        )
    };
    for (body, msg) in [
        ("", "one of start or control"),
        ("start = a\ncontrol = b", "mutually exclusive"),
        ("control = b\ndaemon = /p", "daemon and control"),
        ("start = a\npattern = x\nstatus = y", "pattern excludes"),
        (
            "start = a\nbogus = 1",
            "invalid property for service s: bogus",
        ),
        (
            "start = a\ntimeout = soon",
            "timeout value for s is not a valid integer",
        ),
        ("start = a\nforeground = yes\nstop = x", "no stop or status"),
        (
            "start = a\nstatus = b\nrestart_type = transient",
            "restart_type needs",
        ),
        ("start = a\npattern = (", "pattern not valid"),
        ("start = a\nstop_signal = BOGUS", "unknown signal"),
    ] {
        let e = parse_apache(&wrap(body)).expect_err(body).to_string();
        assert!(e.contains(msg), "{body}: {e}");
        assert!(e.contains("<string>:"), "{body}: {e}");
    }
    for (text, msg) in [
        (
            "<entry>\ntype = supervisor\nname = t\n</entry>\n",
            "empty supervisor",
        ),
        (
            "<entry>\ntype = supervisor\nstrategy = all\n<children>\n<entry>\ntype=service\nname=a\nstart=x\n</entry>\n</children>\n</entry>\n",
            "invalid strategy",
        ),
        (
            "<simplevisor>\nvar_base = 1\n</simplevisor>\n",
            "var_base is not a valid configuration property",
        ),
        ("<other>\n</other>\n", "unexpected top-level key"),
        (
            "<entry>\ntype = supervisor\n<children>\n<entry>\ntype=service\nname=a\nstart=x\n</entry>\n<entry>\ntype=service\nname=a\nstart=y\n</entry>\n</children>\n</entry>\n",
            "two entries with the same name: a",
        ),
    ] {
        let e = parse_apache(text).expect_err(text).to_string();
        assert!(e.contains(msg), "{text}: {e}");
    }
}

#[test]
fn supervisor_expected_is_forced_on_children_and_new_keys_parse() {
    let c = parse_apache(
        "<entry>\ntype = supervisor\nexpected = stopped\nmaxr = 5\nmaxt = 10\n<children>\n\
         <entry>\ntype = service\nname = a\nstart = /bin/sleep 100\nforeground = yes\n\
         restart_type = transient\nenv = A=1 B=x%20y\nenv = C=3\nstop_signal = INT\n\
         backoff = 0.5\n</entry>\n</children>\n</entry>\n",
    )
    .expect("valid");
    let s = svc(&c)[0];
    assert!(!s.expected_running);
    assert_eq!(s.mode, Mode::Owned { pidfile: None });
    assert_eq!(s.restart_type, RestartType::Transient);
    assert_eq!(s.env.len(), 3);
    assert_eq!(s.env[1], ("B".to_string(), "x y".to_string()));
    assert_eq!(s.stop_signal, libc::SIGINT);
    assert_eq!(s.backoff, Duration::from_millis(500));
}

#[test]
fn commands_split_as_the_reference_without_quotes_and_as_a_shell_with_them() {
    assert_eq!(split_command("  a  b%20c\td "), ["a", "b c", "d"]);
    assert_eq!(
        split_command(r#"/bin/sh -c "echo 'hi there'; exit 3""#),
        ["/bin/sh", "-c", "echo 'hi there'; exit 3"]
    );
    assert_eq!(
        split_command(r#"x'a b'"c\"d" e\ f %41"#),
        ["xa bc\"d", "e f", "A"]
    );
    assert_eq!(split_command("'' \"\""), ["", ""]);
    // quoted text is literal: no URL-unquoting inside
    assert_eq!(split_command("'100%20'"), ["100%20"]);
    assert!(try_split_command("sh -c 'oops").is_err());
    assert!(try_split_command("sh -c \"oops").is_err());
    assert!(try_split_command("a\\").is_err());
}

/// The keys each block accepts, as written in the parser's matches above.
const GLOBAL_KEYS: &[&str] = &[
    "store", "pidfile", "interval", "log", "logfile", "loglevel", "logname", "daemon", "conftype",
    "command", "path",
];
const SUPERVISOR_KEYS: &[&str] = &[
    "type",
    "name",
    "strategy",
    "window",
    "adjustments",
    "maxr",
    "maxt",
    "expected",
    "children",
    "var_",
];
const SERVICE_KEYS: &[&str] = &[
    "type",
    "name",
    "start",
    "control",
    "stop",
    "status",
    "restart",
    "daemon",
    "path",
    "cwd",
    "user",
    "output",
    "expected",
    "timeout",
    "pattern",
    "foreground",
    "env",
    "stop_signal",
    "restart_type",
    "backoff",
    "backoff_max",
    "var_",
];

/// The keys `.TP` entries of one section of simplevisor.conf(5) name.
fn man_keys(section: &str) -> Vec<String> {
    let page = include_str!("../../../../man/simplevisor.conf.5");
    let body = page
        .split(&format!(".SH {section}\n"))
        .nth(1)
        .expect("section")
        .split("\n.SH ")
        .next()
        .expect("body");
    let mut keys = Vec::new();
    let mut lines = body.lines();
    while let Some(l) = lines.next() {
        if l == ".TP" {
            let item = lines.next().expect("item");
            for part in item.split("\\fB").skip(1) {
                keys.push(part.split("\\fR").next().expect("key").to_string());
            }
        }
    }
    keys
}

#[test]
fn man_page_example_is_a_valid_configuration() {
    let page = include_str!("../../../../man/simplevisor.conf.5");
    let example = page
        .split(".SH EXAMPLE\n.nf\n")
        .nth(1)
        .and_then(|s| s.split("\n.fi\n").next())
        .expect("example");
    let c = parse_apache(&example.replace("\\-", "-")).expect("the example parses");
    assert_eq!(svc(&c).len(), 3);
    assert_eq!(c.global.interval, Some(30));
}

#[test]
fn man_page_lists_every_key() {
    for (section, keys) in [
        ("GLOBAL SETTINGS", GLOBAL_KEYS),
        ("SUPERVISOR ENTRIES", SUPERVISOR_KEYS),
        ("SERVICE ENTRIES", SERVICE_KEYS),
    ] {
        let mut documented = man_keys(section);
        documented.sort();
        let mut known: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        known.sort();
        assert_eq!(documented, known, "{section}");
    }
    // and the parser knows them: none is refused as unknown
    for k in GLOBAL_KEYS {
        let text = format!("<simplevisor>\n {k} = 1\n</simplevisor>\n");
        if let Err(e) = parse_apache(&text) {
            assert!(
                !e.to_string().contains("not a valid configuration"),
                "{k}: {e}"
            );
        }
    }
    for (ty, keys) in [("supervisor", SUPERVISOR_KEYS), ("service", SERVICE_KEYS)] {
        for k in keys.iter() {
            let k = if *k == "var_" { "var_x" } else { k };
            let text = format!(
                "<entry>\n type = supervisor\n name = top\n <children>\n <entry>\n \
                 type = {ty}\n name = n\n {k} = 1\n </entry>\n </children>\n</entry>\n"
            );
            if let Err(e) = parse_apache(&text) {
                assert!(!e.to_string().contains("invalid property"), "{ty} {k}: {e}");
            }
        }
    }
}

#[test]
fn unquote_as_python() {
    assert_eq!(unquote("hello%20world"), "hello world");
    assert_eq!(unquote("100%"), "100%");
    assert_eq!(unquote("%zz"), "%zz");
    assert_eq!(unquote("a%2"), "a%2");
}
