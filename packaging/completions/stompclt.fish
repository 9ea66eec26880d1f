complete -c stompclt -l incoming-broker-uri -d 'URI of the broker to receive from: SCHEME://HOST:PORT (see the schemes below), failover:(URI,...)?OPTIONS or file:PATH; all:(URI,...)?OPTIONS or all:SCHEME://ALIAS:PORT (every address of ALIAS) consumes from every broker at once' -r
complete -c stompclt -l incoming-broker-auth -d 'Credential for the incoming broker, repeatable: \'none\', \'plain name=USER pass-file=FILE\' (or pass=PASSWORD, which shows in ps), \'x509 cert=FILE key=FILE [pass-file=FILE] [ca=DIR] [ca_file=FILE]\' (a TLS client certificate; X509_USER_CERT, X509_USER_KEY, X509_CERT_DIR, X509_CERT_FILE are the defaults). A pass-file\'s first line is the password; a file others can access is refused' -r
complete -c stompclt -l incoming-broker-sockopts -d 'Socket options of the incoming broker (KEY=VALUE...): the IO::Socket::SSL ones mapped to rustls are SSL_ca_path, SSL_ca_file, SSL_cert_file, SSL_key_file, SSL_passwd, SSL_verify_mode (0: no verification), SSL_verifycn_name/SSL_hostname; any SSL_* key turns TLS on; others are ignored with a warning' -r
complete -c stompclt -l incoming-queue -d 'Directory queue to read: \'path=DIR type=DQS|DQN ...\' and any dirq option' -r
complete -c stompclt -l outgoing-broker-uri -d 'URI of the broker to send to, as for --incoming-broker-uri; all:(URI,...)?OPTIONS or all:SCHEME://ALIAS:PORT spreads the messages over the brokers that are up (round robin)' -r
complete -c stompclt -l outgoing-broker-auth -d 'Credential for the outgoing broker' -r
complete -c stompclt -l outgoing-broker-sockopts -d 'Socket options of the outgoing broker (KEY=VALUE...), as for the incoming broker' -r
complete -c stompclt -l outgoing-queue -d 'Directory queue to write: \'path=DIR type=DQS|DQN compression=zlib ...\'' -r
complete -c stompclt -l reject-queue -d 'Beyond the reference: a message the destination refuses as it is (too large, a bad destination, refused by the service) goes to this directory queue (\'path=DIR type=DQS ...\'), with the reason in its header reject-reason, and its source is acknowledged; without it such a message ends the run (exit 6), left where it was' -r
complete -c stompclt -l quarantine -d 'Beyond the reference: an incoming queue element that cannot be read as a message (truncated, empty, bad JSON, bad compression, a bad header) is moved whole to this directory, with DIR-NAME.reason beside it, logged and counted, and the transfer goes on; without it such an element ends the run (exit 6), left in place' -r -F
complete -c stompclt -l dedup-state -d 'With --dedup: the directory of the window when the destination is a broker' -r -F
complete -c stompclt -l dedup-window -d 'With --dedup: ids older than this many seconds are forgotten (accepted again)' -r
complete -c stompclt -l dedup-size -d 'With --dedup: at most this many ids are kept (about 100 bytes each in memory)' -r
complete -c stompclt -l subscribe -d 'Subscription (KEY=VALUE...), repeatable: \'destination=ADDRESS\' and the protocol\'s own keys' -r
complete -c stompclt -l prefetch -d 'Prefetch of the subscriptions (the broker\'s own header or link credit); default min(count, 100) with --reliable and --count' -r
complete -c stompclt -l window -d 'Reliable mode: at most this many messages unconfirmed (0: unlimited)' -r
complete -c stompclt -l timeout-client -d 'Client heart-beat period, seconds' -r
complete -c stompclt -l timeout-server -d 'Desired server heart-beat period, seconds' -r
complete -c stompclt -l timeout-connect -d 'TCP connect timeout, also the wait for the broker\'s answer to the connection (default: 10 s for that answer)' -r
complete -c stompclt -l timeout-broker -d 'How long to wait for subscription receipts (default: forever)' -r
complete -c stompclt -l timeout-disconnect -d 'How long to wait for the broker to confirm the disconnection' -r
complete -c stompclt -l timeout-flush -d 'Time to write the remaining output at stop' -r
complete -c stompclt -l timeout-inactivity -d 'Stop when no message arrived for this long' -r
complete -c stompclt -l timeout-linger -d 'At stop, how long to wait for outstanding confirmations (default: forever)' -r
complete -c stompclt -l timeout-status -d 'With --status, retry this long' -r
complete -c stompclt -s c -l count -d 'Process at most this many messages' -r
complete -c stompclt -l duration -d 'Stop after this many seconds (fractional allowed)' -r
complete -c stompclt -l header-delete -d 'Built-in filter: delete this header (repeatable)' -r
complete -c stompclt -l header-rename -d 'Built-in filter: rename a header, OLD=NEW (repeatable)' -r
complete -c stompclt -l header-set -d 'Built-in filter: set a header, NAME=VALUE (repeatable), e.g. destination=/queue/x' -r
complete -c stompclt -l keep-if -d 'Built-in filter: pass on only messages whose header (or \'body\') matches the regex, FIELD=REGEX (repeatable: all must match). Dropped messages are acknowledged' -r
complete -c stompclt -l drop-if -d 'Built-in filter: drop messages whose header (or \'body\') matches the regex, FIELD=REGEX (repeatable: any drops)' -r
complete -c stompclt -l tap -d 'Built-in filter: also add every message passed on to this queue (\'path=DIR type=DQS\')' -r
complete -c stompclt -l callback-code -d 'Perl callback code: not supported (Perl cannot run here; see the built-in filters)' -r
complete -c stompclt -l callback-path -d 'Perl callback file: not supported' -r -F
complete -c stompclt -l callback-data -d 'Data for the Perl callback: not supported' -r
complete -c stompclt -l pidfile -d 'Pid file: created exclusively (a stale one is replaced), touched while running, removed at exit; also how --quit and --status find the process' -r -F
complete -c stompclt -l metrics-listen -d 'Serve Prometheus metrics at http://ADDR/metrics: PORT alone listens on 127.0.0.1; HOST:PORT or [IPV6]:PORT for another interface. Every interface (0.0.0.0, ::) also needs --metrics-allow-wildcard' -r
complete -c stompclt -l metrics-file -d 'Write the metrics to this file, replaced whole every --metrics-interval and at exit (for node_exporter\'s textfile collector; name it *.prom)' -r -F
complete -c stompclt -l metrics-interval -d 'Seconds between two writes of --metrics-file' -r
complete -c stompclt -l log -d 'Where warnings and debug lines go (the reference amqpclt\'s spelling): stdout, syslog, file (with --logfile) or null; default standard error (syslog once a daemon)' -r -f -a "stdout\t''
syslog\t''
file\t''
null\t''"
complete -c stompclt -l logfile -d 'The file of --log file (appended to)' -r -F
complete -c stompclt -l loglevel -d 'The lowest level logged: debug (as -d), info, warning (the default) or error (no warnings)' -r -f -a "debug\t''
info\t''
warning\t''
error\t''"
complete -c stompclt -l config -l conf -l cfg -d 'Configuration file (Config::General syntax): option names as on the command line, blocks as dashed prefixes, repeated <subscribe> blocks, an optional wrapper block named after the program. The command line overrides the file' -r -F
complete -c stompclt -l config-general -d 'Extra Config::General options (KEY=VALUE...); InterPolateVars=1 turns on $variables' -r
complete -c stompclt -l incoming-broker-connect -d 'Extra CONNECT headers for the incoming broker (KEY=VALUE...); \'version=1.1\' selects the protocol versions accepted, \'host=/\' sets the virtual host (RabbitMQ needs it)' -r
complete -c stompclt -l incoming-broker-type -d 'Incoming broker type (ActiveMQ, Apollo, Artemis, RabbitMQ, UNKNOWN); default: detected from the CONNECTED frame' -r
complete -c stompclt -l incoming-broker-stomp-debug -d 'Debug flags of the STOMP client (api, command, header, body, io, connection, all): frames are logged as with -dd (-ddd with body, io, all)' -r
complete -c stompclt -l outgoing-broker-connect -d 'Extra CONNECT headers for the outgoing broker (KEY=VALUE...)' -r
complete -c stompclt -l outgoing-broker-type -d 'Outgoing broker type' -r
complete -c stompclt -l outgoing-broker-stomp-debug -d 'Debug flags of the STOMP client, as for the incoming broker' -r
complete -c stompclt -l unsubscribe -d 'UNSUBSCRIBE at stop for each subscription, matched by position (KEY=VALUE..., may be empty), repeatable' -r
complete -c stompclt -l batch -d 'Reliable mode, beyond the reference: ask a receipt only on every Nth SEND (and on the last before waiting), and acknowledge received messages with one cumulative \'ack:client\' ACK per N. Safe with brokers that process a connection\'s frames in order (RabbitMQ, ActiveMQ); see the guide. Default 1 (a receipt and an ACK per message)' -r
complete -c stompclt -l timeout-frame -d 'Seconds a frame may take from its first byte to its last: a peer that trickles a frame in (a byte a second) is cut there, as a lost connection' -r
complete -c stompclt -s h -l help -d 'Print help and exit with status 1, as the reference does'
complete -c stompclt -s m -l manual -d 'Print the whole manual (every option with its full description) and exit 0'
complete -c stompclt -s l -l list -d 'List the options, one per line, and exit 0'
complete -c stompclt -l dedup -d 'Beyond the reference: exactly once into a spool. A message from a queue element gets a stable id (header dedup-id, and the protocol\'s own id field), the same however often the element is sent; a message whose id was written (or, to a broker, confirmed) within the window is acknowledged and not written again. The window is kept beside the outgoing queue, or in --dedup-state'
complete -c stompclt -l no-dedup
complete -c stompclt -l reliable -d 'At-least-once: an incoming message is acknowledged only after the destination confirmed it (a broker receipt or accepted outcome, or a completed queue add); queue elements are removed only then'
complete -c stompclt -l no-reliable
complete -c stompclt -l reconnect -d 'Beyond the reference: when a broker connection is lost during the transfer (socket error, bad frame, missed heart-beats), connect again with the failover backoff and go on. With --reliable nothing is lost: unconfirmed messages are sent again and unacknowledged ones redelivered (possible duplicates, counted in --statistics)'
complete -c stompclt -l no-reconnect
complete -c stompclt -l heart-beat -d 'Heart-beats: the client shows it is alive, and a broker silent for twice the server period is taken for dead (STOMP heart-beats; the AMQP idle time-out)'
complete -c stompclt -l no-heart-beat
complete -c stompclt -l loop -d 'Incoming queue: start again at the end instead of stopping'
complete -c stompclt -l no-loop
complete -c stompclt -l remove -d 'Incoming queue: remove the elements handed on (otherwise only unlock them)'
complete -c stompclt -l no-remove
complete -c stompclt -l lazy -d 'Start the outgoing module only when the first message arrives'
complete -c stompclt -l no-lazy
complete -c stompclt -l strip-broker-headers -d 'Built-in filter: remove the headers the broker adds on delivery (listed below), e.g. before sending received messages on'
complete -c stompclt -l daemon -d 'Detach and run in the background; errors go to syslog. Incompatible with --statistics'
complete -c stompclt -l no-daemon
complete -c stompclt -l quit -d 'Tell the agent of --pidfile to quit (it lingers, then TERM, then KILL)'
complete -c stompclt -l status -d 'Report the status of the agent of --pidfile: exit 0 running, 1 dead, 3 not running, 4 stale or unknown'
complete -c stompclt -l json -d 'With --status: print the running agent\'s figures (the metrics below) as one JSON object'
complete -c stompclt -l metrics-allow-wildcard -d 'Allow --metrics-listen on a wildcard address (every interface)'
complete -c stompclt -s s -l statistics -d 'Print statistics at the end'
complete -c stompclt -l no-statistics
complete -c stompclt -s d -l debug -d 'Debug output on stderr (syslog with --daemon), repeatable: -d connections and subscriptions, -dd every frame\'s command and headers, -ddd body sizes, -dddd the configuration'
complete -c stompclt -s V -l version -d 'Print version'
