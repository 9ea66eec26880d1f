//! Brokers of a test's own, started and stopped by the project's scripts.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A queue name no other test (or run) uses: `/queue/msgtk.TAG.PID.NANOS.N`.
pub fn unique_destination(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    format!(
        "/queue/msgtk.{tag}.{}.{t}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A broker of the test's own (other ports, node name and data directory), so that
/// restarting it disturbs no other test; stopped and removed when dropped.
pub struct OwnBroker {
    /// `rabbitmq`, `activemq` or `mosquitto` (no STOMP port: 0).
    pub kind: &'static str,
    env: Vec<(String, String)>,
    /// Its STOMP port.
    pub stomp: u16,
    /// Its AMQP port (RabbitMQ: 0-9-1 and 1.0).
    pub amqp: Option<u16>,
    /// Its MQTT port (Mosquitto).
    pub mqtt: Option<u16>,
    /// One broker of a kind (its fixed ports) at a time, across the test binaries too.
    _turn: Option<Turn>,
}

/// The turn to start a broker of one kind on its fixed ports: a lock within the test binary
/// (its tests run side by side) and a file lock across the test binaries that
/// scripts/test.sh runs side by side (they share its TMPDIR). Held until dropped.
pub struct Turn {
    _file: std::fs::File,
    _mutex: std::sync::MutexGuard<'static, ()>,
}

/// `MSGTK_PORT_OFFSET` (default 0): added to the fixed ports of a test's own RabbitMQ and
/// RabbitMQ cluster, so that test binaries run side by side (scripts/test.sh gives each its
/// own offset) need not take turns for them.
pub fn port_offset() -> u16 {
    std::env::var("MSGTK_PORT_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits for the turn to start a broker of this kind (`rabbitmq`, `activemq`, `mosquitto`,
/// `rabbitmq-cluster`) on its fixed ports.
pub fn turn(kind: &str) -> Turn {
    static TURNS: [std::sync::Mutex<()>; 4] = [
        std::sync::Mutex::new(()),
        std::sync::Mutex::new(()),
        std::sync::Mutex::new(()),
        std::sync::Mutex::new(()),
    ];
    let i = match kind {
        "rabbitmq" => 0,
        "activemq" => 1,
        "rabbitmq-cluster" => 3,
        _ => 2,
    };
    // a test that failed holding it poisoned it; the broker it had is stopped all the same
    let mutex = TURNS[i].lock().unwrap_or_else(|e| e.into_inner());
    let path = std::env::temp_dir().join(format!("msgtk-turn-{kind}-{}.lock", port_offset()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    Turn {
        _file: file,
        _mutex: mutex,
    }
}

impl OwnBroker {
    /// A script of tests/brokers.
    pub fn script(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/brokers")
            .join(name)
    }

    fn var(&self) -> &'static str {
        match self.kind {
            "rabbitmq" => "RMQ",
            "mosquitto" => "MQTT",
            _ => "AMQ",
        }
    }

    /// Starts a fresh broker of this kind on ports of its own.
    pub fn start_new(kind: &'static str) -> OwnBroker {
        let turn = turn(kind);
        let pid = std::process::id();
        let base_var = match kind {
            "rabbitmq" => "RMQ_DATA",
            "mosquitto" => "MQTT_DATA",
            _ => "AMQ_DATA",
        };
        let base = std::env::var(base_var).unwrap_or_else(|_| {
            panic!("{base_var} is not set: this test starts its own {kind} beside the one of scripts/test.sh")
        });
        let data = format!("{base}-restart-{pid}");
        let b = if kind == "mosquitto" {
            // saving after every change: a SIGKILLed broker keeps what it acknowledged
            OwnBroker {
                kind,
                env: vec![
                    ("MQTT_DATA".into(), data),
                    ("MQTT_PORT".into(), "1884".into()),
                    ("MQTTS_PORT".into(), "8884".into()),
                    ("MQTT_DURABLE".into(), "1".into()),
                ],
                stomp: 0,
                amqp: None,
                mqtt: Some(1884),
                _turn: Some(turn),
            }
        } else if kind == "rabbitmq" {
            let p = |port: u16| (port + port_offset()).to_string();
            OwnBroker {
                kind,
                env: vec![
                    ("RMQ_DATA".into(), data),
                    ("RMQ_AMQP_PORT".into(), p(5674)),
                    ("RMQ_STOMP_PORT".into(), p(61633)),
                    ("RMQ_STOMPS_PORT".into(), p(61635)),
                    ("RMQ_AMQPS_PORT".into(), p(5675)),
                    ("RMQ_DIST_PORT".into(), p(25674)),
                    ("RMQ_NODENAME".into(), format!("restart{pid}@localhost")),
                ],
                stomp: 61633 + port_offset(),
                amqp: Some(5674 + port_offset()),
                mqtt: None,
                _turn: Some(turn),
            }
        } else {
            OwnBroker {
                kind,
                env: vec![
                    ("AMQ_DATA".into(), data),
                    ("AMQ_OPENWIRE_PORT".into(), "61646".into()),
                    ("AMQ_STOMP_PORT".into(), "61644".into()),
                    ("AMQ_STOMPS_PORT".into(), "61647".into()),
                    ("AMQ_HEAP".into(), "512M".into()),
                ],
                stomp: 61644,
                amqp: None,
                mqtt: None,
                _turn: Some(turn),
            }
        };
        b.sh("start", true);
        b
    }

    /// A Mosquitto of the test's own listening on `host` (another loopback address such as
    /// 127.0.0.2), MQTT on `port`, TLS on `port + 7000`.
    pub fn mosquitto_at(host: &str, port: u16) -> OwnBroker {
        let base = std::env::var("MQTT_DATA").unwrap_or_else(|_| {
            panic!("MQTT_DATA is not set: this test starts its own mosquitto beside the one of scripts/test.sh")
        });
        let b = OwnBroker {
            kind: "mosquitto",
            env: vec![
                (
                    "MQTT_DATA".into(),
                    format!("{base}-{host}-{port}-{}", std::process::id()),
                ),
                ("MQTT_HOST".into(), host.into()),
                ("MQTT_PORT".into(), port.to_string()),
                ("MQTTS_PORT".into(), (port + 7000).to_string()),
            ],
            stomp: 0,
            amqp: None,
            mqtt: Some(port),
            _turn: None,
        };
        b.sh("start", true);
        b
    }

    /// Stops the broker (gracefully), keeping its data.
    pub fn stop(&self) {
        self.sh("stop", false);
    }

    /// Starts the stopped broker again on its data.
    pub fn start(&self) {
        self.sh("start", false);
    }

    fn sh(&self, what: &str, fresh: bool) {
        let script = format!("{what}-{}.sh", self.kind);
        self.bash(&script, |c| {
            c.arg(Self::script(&script));
            if fresh {
                c.env(format!("{}_FRESH", self.var()), "1");
            }
        });
    }

    /// Runs bash, as `configure` sets it up, in the broker's environment; fails the test with
    /// its output, under `what`, unless it succeeds.
    fn bash(&self, what: &str, configure: impl FnOnce(&mut Command)) {
        let mut c = Command::new("bash");
        c.envs(self.env.iter().cloned());
        configure(&mut c);
        let out = c.output().expect("bash");
        assert!(
            out.status.success(),
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// SIGKILLs the broker, as in a crash: Mosquitto and ActiveMQ (their pidfiles name the
    /// broker's process itself) or RabbitMQ (its Erlang VM).
    pub fn kill(&self) {
        let (var, file) = match self.kind {
            "mosquitto" => ("MQTT_DATA", "mosquitto.pid"),
            "rabbitmq" => ("RMQ_DATA", "beam.pid"),
            _ => ("AMQ_DATA", "activemq.pid"),
        };
        let data = self
            .env
            .iter()
            .find(|(k, _)| k == var)
            .map(|(_, v)| v.clone())
            .expect("data directory");
        let pidfile = Path::new(&data).join(file);
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .expect("pidfile")
            .trim()
            .parse()
            .expect("pid");
        // the broker this test started
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "kill -KILL {pid}");
        crate::process::wait_until(
            "the broker gone",
            std::time::Duration::from_secs(20),
            || !crate::process::alive(pid),
        );
    }

    /// SIGKILLs the broker and starts it again on the same data.
    pub fn crash_restart(&self) {
        self.kill();
        self.sh("start", false);
    }

    /// Stops the broker and starts it again, keeping its data (persistent messages survive).
    pub fn restart(&self) {
        self.sh("stop", false);
        self.sh("start", false);
    }

    /// RabbitMQ: writes its metadata log (Mnesia's: queue definitions) to disk now. RabbitMQ
    /// 3.10 commits a queue's declaration to that log asynchronously (OTP issue #4392), so a
    /// queue declared just before a SIGKILL is gone after the restart with every message it
    /// had confirmed; a test that kills the broker to test a client syncs it first.
    pub fn sync_metadata(&self) {
        assert_eq!(
            self.kind, "rabbitmq",
            "only RabbitMQ keeps its metadata in Mnesia"
        );
        self.bash("rabbitmqctl eval mnesia:sync_log()", |c| {
            c.args([
                "-c",
                ". \"$RMQ_DATA/env.sh\" && /usr/lib/rabbitmq/bin/rabbitmqctl -q eval 'mnesia:sync_log().'",
            ]);
        });
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script(&format!("stop-{}.sh", self.kind)))
            .envs(self.env.iter().cloned())
            .env(format!("{}_CLEAN", self.var()), "1")
            .output();
    }
}

/// The brokers a test script started, from an environment variable
/// `NAME=HOST:PORT,NAME=HOST:PORT` (`STOMP_BROKERS`, `AMQP_BROKERS`): (name, address) pairs.
/// Fails loudly when it is not set: broker tests run against real brokers or not at all,
/// and only an explicit `--skip broker_` leaves them out.
pub fn from_env(var: &str) -> Vec<(String, String)> {
    let spec = std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: broker tests need the brokers scripts/test.sh starts; leave \
             them out explicitly with `-- --skip broker_`"
        )
    });
    spec.split(',')
        .map(|item| {
            let (name, addr) = item
                .split_once('=')
                .unwrap_or_else(|| panic!("{var}: {item:?} is not NAME=HOST:PORT"));
            (name.to_string(), addr.to_string())
        })
        .collect()
}

/// The messages, made persistent (durable): a broker restart must not drop them.
pub fn persistent(msgs: Vec<message::Message>) -> Vec<message::Message> {
    msgs.into_iter()
        .map(|m| m.with_header("persistent", "true"))
        .collect()
}
