//! With other programs: a stompclt transfer under simplevisor, the store shared with python simplevisor.

use super::*;

/// stompclt from the same build (cargo builds every binary of the workspace for its tests).
fn stompclt_binary() -> PathBuf {
    test_support::bin::sibling(env!("CARGO_BIN_EXE_simplevisor"), "stompclt").into()
}

#[test]
fn a_stompclt_transfer_under_simplevisor_survives_sigkill() {
    let sv = Sv::new();
    let stompclt = stompclt_binary();
    let (inq, outq) = (sv.p("in"), sv.p("out"));
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service(
                "agent",
                &format!(
                    "start = {} --incoming-queue path={inq} --outgoing-queue path={outq} --loop --remove --reliable\nforeground = yes",
                    stompclt.display()
                ),
            )],
        ),
    );
    let child = sv.start();
    let add = |n: usize| {
        let dirq = stompclt.with_file_name("dirq");
        let st = Command::new(&dirq)
            .args([
                "generate",
                "--path",
                &inq,
                "--type",
                "dqs",
                "--count",
                &n.to_string(),
            ])
            .status()
            .expect("dirq");
        assert!(st.success());
    };
    let count = |q: &str| -> usize {
        let out = Command::new(stompclt.with_file_name("dirq"))
            .args(["count", "--path", q, "--type", "dqs"])
            .output()
            .expect("dirq count");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    };
    add(200);
    wait_until("200 moved", Duration::from_secs(30), || count(&outq) == 200);
    let old = sv.pid(&["agent"]).expect("agent");
    // SAFETY: our own tree's process.
    unsafe { libc::kill(old, libc::SIGKILL) };
    wait_until("the agent restarted", Duration::from_secs(10), || {
        sv.pid(&["agent"]).is_some_and(|p| p != old)
    });
    add(300);
    wait_until("500 moved", Duration::from_secs(30), || count(&outq) >= 500);
    stop(&sv, child);
    assert_eq!(count(&inq), 0);
    assert!(!alive(old));
}

/// python simplevisor 1.3 from PyPI (in the .venv scripts/setup-python.sh makes), which on
/// Python 3 works with JSON configurations in the foreground without a pidfile.
fn python_simplevisor() -> (String, String) {
    let py = std::env::var("REF_PYTHON").unwrap_or_else(|_| {
        panic!(
            "REF_PYTHON is not set: compat tests need the .venv of scripts/setup-python.sh \
             (or leave them out with --skip compat_)"
        )
    });
    let script = Path::new(&py).with_file_name("simplevisor");
    assert!(
        script.exists(),
        "{} missing: pip install simplevisor==1.3",
        script.display()
    );
    (py, script.display().to_string())
}

#[test]
fn compat_the_store_is_shared_with_python_simplevisor() {
    let (py, script) = python_simplevisor();
    let sv = Sv::new();
    let ctl = sv.ctl();
    let conf = serde_json::json!({
        "simplevisor": {"store": sv.p("store.json"), "interval": "1", "log": "null"},
        "entry": {"type": "supervisor", "name": "top", "children": {"entry": [
            {"type": "service", "name": "x", "control": format!("{ctl} x")},
            {"type": "supervisor", "name": "sub", "strategy": "rest_for_one", "children": {"entry": [
                {"type": "service", "name": "a", "start": format!("{ctl} a start"),
                 "status": format!("{ctl} a status"), "stop": format!("{ctl} a stop")}
            ]}}
        ]}}
    });
    std::fs::write(sv.path("sv.json"), conf.to_string()).expect("json");
    let python = |cmd: &str| {
        let out = Command::new(&py)
            .arg(&script)
            .args(["--conftype", "json", "--conf"])
            .arg(sv.path("sv.json"))
            .arg(cmd)
            .output()
            .expect("python simplevisor");
        assert!(
            out.status.success(),
            "python simplevisor {cmd}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let rust = |cmd: &str| {
        let out = simplevisor()
            .args(["--conftype", "json", "--conf"])
            .arg(sv.path("sv.json"))
            .args(cmd.split(' '))
            .output()
            .expect("simplevisor");
        assert!(out.status.success(), "simplevisor {cmd}: {out:?}");
    };
    let store = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(sv.path("store.json")).expect("store"))
            .expect("json store")
    };
    python("single");
    let after_python = store();
    // the same ids: md5 of the names for supervisors, of name|expected|start for services
    let top = &after_python["b28354b543375bfa94dabaeda722927f"];
    assert_eq!(top["name"], "top", "{after_python}");
    let py_cycles = top["cycles"].as_array().expect("cycles").clone();
    assert!(!py_cycles.is_empty());
    rust("single");
    let after_rust = store();
    let top = &after_rust["b28354b543375bfa94dabaeda722927f"];
    let cycles = top["cycles"].as_array().expect("cycles");
    assert_eq!(
        cycles.len(),
        py_cycles.len() + 1,
        "python's history kept: {after_rust}"
    );
    assert_eq!(cycles[0], py_cycles[0]);
    let child_ids: Vec<&String> = top["children"]
        .as_object()
        .expect("children")
        .keys()
        .collect();
    let py_ids: Vec<&String> = after_python["b28354b543375bfa94dabaeda722927f"]["children"]
        .as_object()
        .expect("children")
        .keys()
        .collect();
    assert_eq!(child_ids, py_ids, "the same node ids");
    // and python reads what we wrote
    python("single");
    assert!(
        store()["b28354b543375bfa94dabaeda722927f"]["cycles"]
            .as_array()
            .is_some_and(|c| c.len() == py_cycles.len() + 2)
    );
    // the whole tree, directly (no daemon runs)
    rust("stop top");
    assert_eq!(
        simplevisor()
            .args(["--conftype", "json", "--conf"])
            .arg(sv.path("sv.json"))
            .arg("check")
            .output()
            .expect("check")
            .status
            .code(),
        Some(1)
    );
}
