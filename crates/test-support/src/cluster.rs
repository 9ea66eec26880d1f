//! A three-node RabbitMQ cluster of the test's own on loopback, started and stopped by the
//! project's scripts (tests/brokers/start-rabbitmq-cluster.sh): node K has STOMP on
//! 61670+K and AMQP on 5690+K.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::brokers::OwnBroker;

/// The cluster; stopped and its data removed when dropped.
pub struct RabbitCluster {
    data: PathBuf,
}

impl RabbitCluster {
    /// Starts the three nodes fresh and joins them.
    pub fn start() -> RabbitCluster {
        let base = std::env::var("RMQ_DATA").unwrap_or_else(|_| {
            panic!("RMQ_DATA is not set: this test starts a RabbitMQ cluster beside the broker of scripts/test.sh")
        });
        let c = RabbitCluster {
            data: PathBuf::from(format!("{base}-cluster-{}", std::process::id())),
        };
        c.script("start-rabbitmq-cluster.sh", &[], true);
        c
    }

    fn script(&self, name: &str, args: &[&str], fresh: bool) {
        let mut cmd = Command::new("bash");
        cmd.arg(OwnBroker::script(name))
            .args(args)
            .env("RMQ_CLUSTER_DATA", &self.data);
        if fresh {
            cmd.env("RMQ_FRESH", "1");
        }
        let out = cmd.output().expect("cluster script");
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Node `k`'s STOMP port.
    pub fn stomp(k: u16) -> u16 {
        61670 + k
    }

    /// Node `k`'s AMQP port (0-9-1 and 1.0).
    pub fn amqp(k: u16) -> u16 {
        5690 + k
    }

    /// SIGKILLs node `k`'s Erlang VM (the node dies as in a crash).
    pub fn kill(&self, k: u16) {
        let pidfile = self.data.join(format!("n{k}")).join("beam.pid");
        let pid = read_pid(&pidfile);
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "kill -KILL {pid}");
        crate::process::wait_until("the node gone", std::time::Duration::from_secs(20), || {
            !crate::process::alive(pid)
        });
    }

    /// Starts node `k` again on its data: it rejoins the cluster.
    pub fn restart(&self, k: u16) {
        self.script(
            "start-rabbitmq-cluster.sh",
            &["node", &k.to_string()],
            false,
        );
    }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .expect("pid")
}

impl Drop for RabbitCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(OwnBroker::script("stop-rabbitmq-cluster.sh"))
            .env("RMQ_CLUSTER_DATA", &self.data)
            .env("RMQ_CLEAN", "1")
            .output();
    }
}
