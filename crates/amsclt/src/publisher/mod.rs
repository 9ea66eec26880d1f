//! The drop-in for ams-publisher: `--ams-publisher FILE` reads its configuration (INI,
//! `[General]` and `[Queue_X]`/`[Topic_X]` pairs, one worker each) and stands for the
//! options of one transfer — the queue (python `messaging` DQS) to the topic, reliable,
//! removing, looping, reconnecting — with messages built as its publisher builds them
//! ([`build`]). Several workers run as one child process each ([`supervise`]), as
//! ams-publisherd runs them.

pub mod avro;
pub mod build;
pub mod ini;
pub mod supervise;

use std::path::{Path, PathBuf};

use agent::Error;

use crate::cli::Cli;
use build::MsgType;

/// One `[Queue_X]`/`[Topic_X]` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    /// `X`, lower case (as ams-publisher names its workers).
    pub name: String,
    /// `Directory`.
    pub directory: String,
    /// `Granularity` (60).
    pub granularity: u64,
    /// `MaxTemp` and `MaxLock` when `Purge` is on (300, 0), else none.
    pub purge: Option<(u64, u64)>,
    /// `Host`: `HOST[:PORT]` (https) or a whole `http[s]://` base.
    pub host: String,
    /// `Key` (none for a local emulator).
    pub key: Option<String>,
    /// `Project`.
    pub project: String,
    /// `Topic`.
    pub topic: String,
    /// `BulkSize` (100): messages a publish request carries at most.
    pub bulk: usize,
    /// `MsgType`.
    pub msgtype: MsgType,
    /// `AvroSchema` when `Avro` is on.
    pub avro_schema: Option<PathBuf>,
    /// `Timeout` (60 s): each request's.
    pub timeout: f64,
}

impl Worker {
    /// The `--outgoing-broker-uri` of the topic.
    pub fn uri(&self) -> String {
        let host = self.host.trim_end_matches('/');
        let base = if host.starts_with("http://") || host.starts_with("https://") {
            host.to_string()
        } else {
            format!("https://{host}")
        };
        format!("{base}/v1/projects/{}", self.project)
    }

    /// The `--incoming-queue` of the queue.
    pub fn queue(&self) -> String {
        let (maxtemp, maxlock) = self.purge.unwrap_or((0, 0));
        format!(
            "path={} type=DQS granularity={} maxtemp={maxtemp} maxlock={maxlock}",
            self.directory, self.granularity
        )
    }
}

/// Reads a configuration file into its workers, refusing what ams-publisher refuses.
pub fn read(path: &Path) -> Result<Vec<Worker>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let ini = ini::parse(&text)?;
    let section = |name: &str| ini.sections.iter().find(|(n, _)| n == name).map(|(_, s)| s);
    let general = section("General").ok_or("no [General] section")?;
    let flag = |s: &ini::Section, k: &str, default: bool| -> Result<bool, String> {
        match s.get(k).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(format!("{k} = {v:?} is not True or False")),
        }
    };
    if flag(general, "publishmsgfile", false)? || !flag(general, "publishargomessaging", true)? {
        return Err(
            "only PublishArgoMessaging = True is supported (PublishMsgFile is \
                    ams-publisher's debugging aid)"
                .into(),
        );
    }
    let mut workers = Vec::new();
    for (name, q) in &ini.sections {
        let Some(x) = name.strip_prefix("Queue_") else {
            continue;
        };
        let t =
            section(&format!("Topic_{x}")).ok_or_else(|| format!("[{name}] has no [Topic_{x}]"))?;
        workers.push(worker(x, q, t, &flag).map_err(|e| format!("[{name}]/[Topic_{x}]: {e}"))?);
    }
    for (name, _) in &ini.sections {
        if let Some(x) = name.strip_prefix("Topic_")
            && section(&format!("Queue_{x}")).is_none()
        {
            return Err(format!("[{name}] has no [Queue_{x}]"));
        }
    }
    if workers.is_empty() {
        return Err("no [Queue_X] and [Topic_X] sections".into());
    }
    Ok(workers)
}

type Flag<'a> = dyn Fn(&ini::Section, &str, bool) -> Result<bool, String> + 'a;

fn worker(x: &str, q: &ini::Section, t: &ini::Section, flag: &Flag) -> Result<Worker, String> {
    let need = |s: &ini::Section, k: &str| -> Result<String, String> {
        s.get(k)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| format!("no {k}"))
    };
    let number = |s: &ini::Section, k: &str, default: u64| -> Result<u64, String> {
        s.get(k).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{k} = {v:?} is not a whole number"))
        })
    };
    let directory = need(q, "directory")?;
    if directory.contains(char::is_whitespace) {
        return Err(format!("Directory {directory:?} holds white space"));
    }
    let bulk = number(t, "bulksize", 100)?;
    if !(1..=crate::outgoing::MAX_BATCH as u64).contains(&bulk) {
        return Err(format!("BulkSize = {bulk} is not between 1 and 1000"));
    }
    let rate = number(q, "rate", bulk)?;
    if bulk < rate && rate % bulk != 0 {
        return Err(format!(
            "Rate = {rate} is not a multiple of BulkSize = {bulk}"
        ));
    }
    let msgtype = match need(t, "msgtype")?.as_str() {
        "metric_data" => MsgType::MetricData,
        "alarm" => MsgType::Alarm,
        other => return Err(format!("MsgType = {other:?} is not metric_data or alarm")),
    };
    let avro_schema = if flag(t, "avro", false)? {
        Some(PathBuf::from(need(t, "avroschema")?))
    } else {
        None
    };
    let topic = need(t, "topic")?;
    crate::mapping::check_name(&topic)?;
    Ok(Worker {
        name: x.to_lowercase(),
        directory,
        granularity: number(q, "granularity", 60)?,
        purge: flag(q, "purge", true)?
            .then(|| Ok::<_, String>((number(q, "maxtemp", 300)?, number(q, "maxlock", 0)?)))
            .transpose()?,
        host: need(t, "host")?,
        key: t.get("key").filter(|k| !k.is_empty()).cloned(),
        project: need(t, "project")?,
        topic,
        bulk: bulk as usize,
        msgtype,
        avro_schema,
        timeout: number(t, "timeout", 60)?.max(1) as f64,
    })
}

fn usage(s: String) -> Error {
    Error::Usage(s)
}

/// `--ams-publisher`: the worker's options in place of the queue, broker, topic and key
/// options (refused beside it); `--no-reliable` and the like still win.
pub fn apply(cli: &mut Cli) -> Result<(), Error> {
    let Some(path) = cli.ams_publisher.clone() else {
        if cli.ams_publisher_worker.is_some() {
            return Err(usage(
                "option ams-publisher-worker needs --ams-publisher FILE".into(),
            ));
        }
        return Ok(());
    };
    let bad = |e: String| usage(format!("invalid ams-publisher {}: {e}", path.display()));
    let workers = read(&path).map_err(bad)?;
    let w = match &cli.ams_publisher_worker {
        Some(name) => workers
            .iter()
            .find(|w| w.name == name.to_lowercase())
            .ok_or_else(|| bad(format!("no worker {name:?} (it has {})", names(&workers))))?,
        None if workers.len() == 1 => &workers[0],
        None => {
            return Err(bad(format!(
                "{} workers ({}): name one with --ams-publisher-worker",
                workers.len(),
                names(&workers)
            )));
        }
    };
    let a = &cli.agent;
    let taken = [
        ("incoming-broker-uri", a.incoming_broker_uri.is_some()),
        ("incoming-queue", a.incoming_queue.is_some()),
        ("outgoing-broker-uri", a.outgoing_broker_uri.is_some()),
        ("outgoing-queue", a.outgoing_queue.is_some()),
        ("topic", cli.topic.is_some()),
        ("key-file", cli.key_file.is_some()),
        ("ams-message", cli.ams_message.is_some()),
        ("avro-schema", cli.avro_schema.is_some()),
    ];
    if let Some((name, _)) = taken.iter().find(|(_, given)| *given) {
        return Err(usage(format!(
            "options ams-publisher and {name} are mutually exclusive"
        )));
    }
    let a = &mut cli.agent;
    a.incoming_queue = Some(w.queue());
    a.outgoing_broker_uri = Some(w.uri());
    // ams-publisher removes an element once published, and polls its queue for ever
    a.reliable |= !a.no_reliable;
    a.remove |= !a.no_remove;
    a.looping |= !a.no_loop;
    a.reconnect |= !a.no_reconnect;
    cli.topic = Some(w.topic.clone());
    cli.key = w.key.clone();
    cli.ams_message = Some(w.msgtype);
    cli.avro_schema = w.avro_schema.clone();
    cli.publish_batch.get_or_insert(w.bulk as u16);
    cli.timeout_request = w.timeout;
    Ok(())
}

fn names(workers: &[Worker]) -> String {
    workers
        .iter()
        .map(|w| w.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> Result<Vec<Worker>, String> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ams-publisher.conf");
        std::fs::write(&p, text).unwrap();
        read(&p)
    }

    const REFERENCE: &str = "[General]\nHost = nagioshost\nPublishMsgFile = False\n\
        PublishArgoMessaging = True\n[Queue_Metrics]\nDirectory = /var/spool/m/\nRate = 10\n\
        Purge = True\nPurgeEverySec = 300\nMaxTemp = 300\nMaxLock = 0\nGranularity = 60\n\
        [Topic_Metrics]\nHost = messaging-devel.argo.grnet.gr\nKey = EGIKEY\nProject = EGI\n\
        Bulksize = 100\nTopic = metric_data\nMsgType = metric_data\nAvro = True\n\
        AvroSchema = /etc/ams-publisher/metric_data.avsc\nRetry = 5\nTimeout = 60\n\
        SleepRetry = 300\n";

    #[test]
    fn reads_the_reference_configuration() {
        let w = &conf(REFERENCE).unwrap()[0];
        assert_eq!(w.name, "metrics");
        assert_eq!(
            w.uri(),
            "https://messaging-devel.argo.grnet.gr/v1/projects/EGI"
        );
        assert_eq!(
            w.queue(),
            "path=/var/spool/m/ type=DQS granularity=60 maxtemp=300 maxlock=0"
        );
        assert_eq!(w.bulk, 100);
        assert_eq!(w.key.as_deref(), Some("EGIKEY"));
        assert_eq!(w.msgtype, MsgType::MetricData);
    }

    #[test]
    fn refuses_what_the_reference_refuses() {
        let unpaired = REFERENCE.replace("[Topic_Metrics]", "[Topic_Other]");
        assert_eq!(
            conf(&unpaired).unwrap_err(),
            "[Queue_Metrics] has no [Topic_Metrics]"
        );
        let rate = REFERENCE.replace("Bulksize = 100", "Bulksize = 3");
        assert_eq!(
            conf(&rate).unwrap_err(),
            "[Queue_Metrics]/[Topic_Metrics]: Rate = 10 is not a multiple of BulkSize = 3"
        );
        let kind = REFERENCE.replace("MsgType = metric_data", "MsgType = other");
        assert!(
            conf(&kind)
                .unwrap_err()
                .ends_with("MsgType = \"other\" is not metric_data or alarm")
        );
    }
}
