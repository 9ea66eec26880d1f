complete -c amsclt -l incoming-broker-uri -d 'URI of the broker to receive from: SCHEME://HOST:PORT (see the schemes below), failover:(URI,...)?OPTIONS or file:PATH; all:(URI,...)?OPTIONS or all:SCHEME://ALIAS:PORT (every address of ALIAS) consumes from every broker at once' -r
complete -c amsclt -l incoming-broker-auth -d 'Credential for the incoming broker, repeatable: \'none\', \'plain name=USER pass-file=FILE\' (or pass=PASSWORD, which shows in ps), \'x509 cert=FILE key=FILE [pass-file=FILE] [ca=DIR] [ca_file=FILE]\' (a TLS client certificate; X509_USER_CERT, X509_USER_KEY, X509_CERT_DIR, X509_CERT_FILE are the defaults). A pass-file\'s first line is the password; a file others can access is refused' -r
complete -c amsclt -l incoming-broker-sockopts -d 'Socket options of the incoming broker (KEY=VALUE...): the IO::Socket::SSL ones mapped to rustls are SSL_ca_path, SSL_ca_file, SSL_cert_file, SSL_key_file, SSL_passwd, SSL_verify_mode (0: no verification), SSL_verifycn_name/SSL_hostname; any SSL_* key turns TLS on; others are ignored with a warning' -r
complete -c amsclt -l incoming-queue -d 'Directory queue to read: \'path=DIR type=DQS|DQN ...\' and any dirq option' -r
complete -c amsclt -l outgoing-broker-uri -d 'URI of the broker to send to, as for --incoming-broker-uri; all:(URI,...)?OPTIONS or all:SCHEME://ALIAS:PORT spreads the messages over the brokers that are up (round robin)' -r
complete -c amsclt -l outgoing-broker-auth -d 'Credential for the outgoing broker' -r
complete -c amsclt -l outgoing-broker-sockopts -d 'Socket options of the outgoing broker (KEY=VALUE...), as for the incoming broker' -r
complete -c amsclt -l outgoing-queue -d 'Directory queue to write: \'path=DIR type=DQS|DQN compression=zlib ...\'' -r
complete -c amsclt -l reject-queue -d 'Beyond the reference: a message the destination refuses as it is (too large, a bad destination, refused by the service) goes to this directory queue (\'path=DIR type=DQS ...\'), with the reason in its header reject-reason, and its source is acknowledged; without it such a message ends the run (exit 6), left where it was' -r
complete -c amsclt -l quarantine -d 'Beyond the reference: an incoming queue element that cannot be read as a message (truncated, empty, bad JSON, bad compression, a bad header) is moved whole to this directory, with DIR-NAME.reason beside it, logged and counted, and the transfer goes on; without it such an element ends the run (exit 6), left in place' -r -F
complete -c amsclt -l dedup-state -d 'With --dedup: the directory of the window when the destination is a broker' -r -F
complete -c amsclt -l dedup-window -d 'With --dedup: ids older than this many seconds are forgotten (accepted again)' -r
complete -c amsclt -l dedup-size -d 'With --dedup: at most this many ids are kept (about 100 bytes each in memory)' -r
complete -c amsclt -l subscribe -d 'Subscription (KEY=VALUE...), repeatable: \'destination=ADDRESS\' and the protocol\'s own keys' -r
complete -c amsclt -l prefetch -d 'Prefetch of the subscriptions (the broker\'s own header or link credit); default min(count, 100) with --reliable and --count' -r
complete -c amsclt -l window -d 'Reliable mode: at most this many messages unconfirmed (0: unlimited)' -r
complete -c amsclt -l timeout-client -d 'Client heart-beat period, seconds' -r
complete -c amsclt -l timeout-server -d 'Desired server heart-beat period, seconds' -r
complete -c amsclt -l timeout-connect -d 'TCP connect timeout, also the wait for the broker\'s answer to the connection (default: 10 s for that answer)' -r
complete -c amsclt -l timeout-broker -d 'How long to wait for subscription receipts (default: forever)' -r
complete -c amsclt -l timeout-disconnect -d 'How long to wait for the broker to confirm the disconnection' -r
complete -c amsclt -l timeout-flush -d 'Time to write the remaining output at stop' -r
complete -c amsclt -l timeout-inactivity -d 'Stop when no message arrived for this long' -r
complete -c amsclt -l timeout-linger -d 'At stop, how long to wait for outstanding confirmations (default: forever)' -r
complete -c amsclt -l timeout-status -d 'With --status, retry this long' -r
complete -c amsclt -s c -l count -d 'Process at most this many messages' -r
complete -c amsclt -l duration -d 'Stop after this many seconds (fractional allowed)' -r
complete -c amsclt -l header-delete -d 'Built-in filter: delete this header (repeatable)' -r
complete -c amsclt -l header-rename -d 'Built-in filter: rename a header, OLD=NEW (repeatable)' -r
complete -c amsclt -l header-set -d 'Built-in filter: set a header, NAME=VALUE (repeatable), e.g. destination=/queue/x' -r
complete -c amsclt -l keep-if -d 'Built-in filter: pass on only messages whose header (or \'body\') matches the regex, FIELD=REGEX (repeatable: all must match). Dropped messages are acknowledged' -r
complete -c amsclt -l drop-if -d 'Built-in filter: drop messages whose header (or \'body\') matches the regex, FIELD=REGEX (repeatable: any drops)' -r
complete -c amsclt -l tap -d 'Built-in filter: also add every message passed on to this queue (\'path=DIR type=DQS\')' -r
complete -c amsclt -l callback-code -d 'Perl callback code: not supported (Perl cannot run here; see the built-in filters)' -r
complete -c amsclt -l callback-path -d 'Perl callback file: not supported' -r -F
complete -c amsclt -l callback-data -d 'Data for the Perl callback: not supported' -r
complete -c amsclt -l pidfile -d 'Pid file: created exclusively (a stale one is replaced), touched while running, removed at exit; also how --quit and --status find the process' -r -F
complete -c amsclt -l metrics-listen -d 'Serve Prometheus metrics at http://ADDR/metrics: PORT alone listens on 127.0.0.1; HOST:PORT or [IPV6]:PORT for another interface. Every interface (0.0.0.0, ::) also needs --metrics-allow-wildcard' -r
complete -c amsclt -l metrics-file -d 'Write the metrics to this file, replaced whole every --metrics-interval and at exit (for node_exporter\'s textfile collector; name it *.prom)' -r -F
complete -c amsclt -l metrics-interval -d 'Seconds between two writes of --metrics-file' -r
complete -c amsclt -l log -d 'Where warnings and debug lines go (the reference amqpclt\'s spelling): stdout, syslog, file (with --logfile) or null; default standard error (syslog once a daemon)' -r -f -a "stdout\t''
syslog\t''
file\t''
null\t''"
complete -c amsclt -l logfile -d 'The file of --log file (appended to)' -r -F
complete -c amsclt -l loglevel -d 'The lowest level logged: debug (as -d), info, warning (the default) or error (no warnings)' -r -f -a "debug\t''
info\t''
warning\t''
error\t''"
complete -c amsclt -l config -l conf -l cfg -d 'Configuration file (Config::General syntax): option names as on the command line, blocks as dashed prefixes, repeated <subscribe> blocks, an optional wrapper block named after the program. The command line overrides the file' -r -F
complete -c amsclt -l config-general -d 'Extra Config::General options (KEY=VALUE...); InterPolateVars=1 turns on $variables' -r
complete -c amsclt -l dialect -d 'The service\'s dialect (default: pubsub for http:// and *.googleapis.com URIs, else ams)' -r -f -a "ams\t'ARGO Messaging Service: `maxMessages` as a string, cumulative acknowledgements, an unacknowledged batch back on the next pull'
pubsub\t'Google Cloud Pub/Sub and its emulator: per-message leases'"
complete -c amsclt -l key-file -d 'A file holding the service\'s key (token), sent as the x-api-key header and the key query parameter; a key must not have to sit in ps' -r -F
complete -c amsclt -l topic -d 'Topic of outgoing messages without a destination header' -r
complete -c amsclt -l payload -d 'How a message travels: raw (its body as data, its header as attributes) or json (the whole message as its JSON form, text flag included)' -r -f -a "raw\t'The body as data, the header as attributes'
json\t'The whole message as its JSON form (the spool\'s DQS encoding)'"
complete -c amsclt -l incoming-push-listen -d 'Serve the push endpoint on [ADDR:]PORT (127.0.0.1 by default) as the incoming side: each request answered 2xx once its messages are in the outgoing queue, 5xx otherwise (the service delivers them again)' -r
complete -c amsclt -l incoming-push-cert -d 'With --incoming-push-listen: serve https with this certificate chain (PEM; the services push to https endpoints only)' -r -F
complete -c amsclt -l incoming-push-key -d 'The private key of --incoming-push-cert (PEM, unencrypted: protect it by its mode)' -r -F
complete -c amsclt -l timeout-request -d 'Seconds each HTTP request may take before it counts as a lost connection; with --incoming-push-listen, how long a pushed request\'s head, then its body, may take to arrive' -r
complete -c amsclt -l publish-batch -d 'The most messages one publish request carries (1 to 1000)' -r
complete -c amsclt -l ams-message -d 'Publish each queue element as ams-publisher\'s message of this type: its header fields, the body lines the type selects and the tags map, as JSON (or the Avro datum of --avro-schema), with the attributes partition_date and type' -r -f -a "metric_data\t'Monitoring results: `summary`, `message`, `actual_data`; tags from `vofqan`, `voname`, `roc`, `site` (as `endpoint_group`)'
alarm\t'Alarms: `details`, `vo`, `site`, `roc`, `urlhistory`, `urlhelp`; no tags'"
complete -c amsclt -l avro-schema -d 'With --ams-message: encode it as the raw Avro binary datum of this schema (.avsc)' -r -F
complete -c amsclt -l ams-publisher -d 'Do what ams-publisherd does with this configuration (its INI file): each [Queue_X]/[Topic_X] pair is a worker moving the queue to the topic, reliably, removing what was published; several workers run as one process each' -r -F
complete -c amsclt -l ams-publisher-worker -d 'With --ams-publisher: run only this worker (X of [Queue_X])' -r
complete -c amsclt -s h -l help -d 'Print help and exit with status 1, as the reference does'
complete -c amsclt -s m -l manual -d 'Print the whole manual (every option with its full description) and exit 0'
complete -c amsclt -s l -l list -d 'List the options, one per line, and exit 0'
complete -c amsclt -l dedup -d 'Beyond the reference: exactly once into a spool. A message from a queue element gets a stable id (header dedup-id, and the protocol\'s own id field), the same however often the element is sent; a message whose id was written (or, to a broker, confirmed) within the window is acknowledged and not written again. The window is kept beside the outgoing queue, or in --dedup-state'
complete -c amsclt -l no-dedup
complete -c amsclt -l reliable -d 'At-least-once: an incoming message is acknowledged only after the destination confirmed it (a broker receipt or accepted outcome, or a completed queue add); queue elements are removed only then'
complete -c amsclt -l no-reliable
complete -c amsclt -l reconnect -d 'Beyond the reference: when a broker connection is lost during the transfer (socket error, bad frame, missed heart-beats), connect again with the failover backoff and go on. With --reliable nothing is lost: unconfirmed messages are sent again and unacknowledged ones redelivered (possible duplicates, counted in --statistics)'
complete -c amsclt -l no-reconnect
complete -c amsclt -l heart-beat -d 'Heart-beats: the client shows it is alive, and a broker silent for twice the server period is taken for dead (STOMP heart-beats; the AMQP idle time-out)'
complete -c amsclt -l no-heart-beat
complete -c amsclt -l loop -d 'Incoming queue: start again at the end instead of stopping'
complete -c amsclt -l no-loop
complete -c amsclt -l remove -d 'Incoming queue: remove the elements handed on (otherwise only unlock them)'
complete -c amsclt -l no-remove
complete -c amsclt -l lazy -d 'Start the outgoing module only when the first message arrives'
complete -c amsclt -l no-lazy
complete -c amsclt -l strip-broker-headers -d 'Built-in filter: remove the headers the broker adds on delivery (listed below), e.g. before sending received messages on'
complete -c amsclt -l daemon -d 'Detach and run in the background; errors go to syslog. Incompatible with --statistics'
complete -c amsclt -l no-daemon
complete -c amsclt -l quit -d 'Tell the agent of --pidfile to quit (it lingers, then TERM, then KILL)'
complete -c amsclt -l status -d 'Report the status of the agent of --pidfile: exit 0 running, 1 dead, 3 not running, 4 stale or unknown'
complete -c amsclt -l json -d 'With --status: print the running agent\'s figures (the metrics below) as one JSON object'
complete -c amsclt -l metrics-allow-wildcard -d 'Allow --metrics-listen on a wildcard address (every interface)'
complete -c amsclt -s s -l statistics -d 'Print statistics at the end'
complete -c amsclt -l no-statistics
complete -c amsclt -s d -l debug -d 'Debug output on stderr (syslog with --daemon), repeatable: -d connections and subscriptions, -dd every frame\'s command and headers, -ddd body sizes, -dddd the configuration'
complete -c amsclt -s V -l version -d 'Print version'
