complete -c simplevisor -l conf -d 'Configuration file' -r -F
complete -c simplevisor -l conftype -d 'Configuration format' -r -f -a "apache\t'Config::General (Apache style), with includes and `$var` interpolation'
json\t'The same tree as a JSON document'"
complete -c simplevisor -l interval -d 'Seconds between supervision cycles (from the end of one to the start of the next)' -r
complete -c simplevisor -l log -d 'Where to log: stdout, file, syslog, null' -r -f -a "null\t''
file\t''
syslog\t''
stdout\t''"
complete -c simplevisor -l logfile -d 'Log file (log = file)' -r -F
complete -c simplevisor -l loglevel -d 'debug, info, warning, error, critical' -r
complete -c simplevisor -l logname -d 'Logger name (and syslog ident)' -r
complete -c simplevisor -s p -l pidfile -d 'Pidfile: created exclusively and locked, the control channel of the running simplevisor; a unix control socket PIDFILE.sock answers `status --json`' -r -F
complete -c simplevisor -l store -d 'State store (JSON): restart history kept across restarts of simplevisor' -r -F
complete -c simplevisor -l metrics-listen -d 'Serve Prometheus metrics at http://ADDR/metrics: PORT alone listens on 127.0.0.1; HOST:PORT or [IPV6]:PORT for another interface. Every interface (0.0.0.0, ::) also needs --metrics-allow-wildcard' -r
complete -c simplevisor -l metrics-file -d 'Write the metrics to this file, replaced whole every --metrics-interval and at exit (for node_exporter\'s textfile collector; name it *.prom)' -r -F
complete -c simplevisor -l metrics-interval -d 'Seconds between two writes of --metrics-file' -r
complete -c simplevisor -l daemon -d 'Detach and run in the background (start only)'
complete -c simplevisor -l json -d 'status: print the running tree as JSON (from the control socket)'
complete -c simplevisor -l metrics-allow-wildcard -d 'Allow --metrics-listen on a wildcard address (every interface)'
complete -c simplevisor -s h -l help -d 'Print help (see more with \'--help\')'
complete -c simplevisor -s V -l version -d 'Print version'
