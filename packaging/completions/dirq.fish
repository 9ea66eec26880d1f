# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dirq_global_optspecs
    string join \n h/help V/version
end

function __fish_dirq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dirq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dirq_using_subcommand
    set -l cmd (__fish_dirq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dirq -n "__fish_dirq_needs_command" -s h -l help -d 'Print help'
complete -c dirq -n "__fish_dirq_needs_command" -s V -l version -d 'Print version'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "add" -d 'Add elements: each FILE (or standard input) becomes one; prints the new names'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "count" -d 'Print the number of elements, locked or not'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "stats" -d 'Print the queue\'s figures: elements, the oldest and newest element\'s age, locked elements, temporary elements (being added, or left by a crash), for cron and monitoring. Lines \'NAME VALUE\', or one JSON object, or the Prometheus text format for node_exporter\'s textfile collector'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "list" -d 'Print the element names in iteration (creation) order'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "get" -d 'Print an element\'s body (normal: a JSON object; dqs, dqn: a JSON message; one line)'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "pop" -d 'Take elements out in order: lock, print, remove; locked elements are skipped. Bodies are printed as they are: to pop several, separate them with --lines or --null'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "purge" -d 'Remove old temporary elements, release stale locks (those of killed agents and pops at once, others after --maxlock), remove empty directories'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "lock" -d 'Lock an element (exit 4 if it is already locked)'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "unlock" -d 'Unlock an element'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "remove" -d 'Remove an element. An unlocked one is locked first; a locked one is taken to be locked by the caller (an earlier \'dirq lock\')'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "generate" -d 'Fill a dqs or dqn queue with generated test messages (the option names of Perl\'s Messaging::Message::Generator; integers take X, X-Y uniform or X^Y normal; entropy 0 one letter, 1 hex, 2 base64url, 3 printable ASCII, 4 random bytes or Unicode)'
complete -c dirq -n "__fish_dirq_needs_command" -f -a "touch" -d 'Set an element\'s modification time to now, so that purge leaves its lock alone'
complete -c dirq -n "__fish_dirq_using_subcommand add" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand add" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand add" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand add" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand add" -s l -l lines -d 'Each input line (without its newline) becomes one element'
complete -c dirq -n "__fish_dirq_using_subcommand add" -s q -l quiet -d 'Print nothing'
complete -c dirq -n "__fish_dirq_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand count" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand count" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand count" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand count" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand count" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand stats" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand stats" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l json -d 'One JSON object instead of lines'
complete -c dirq -n "__fish_dirq_using_subcommand stats" -l prometheus -d 'The Prometheus text format (dirq_* gauges labelled with the queue\'s path)'
complete -c dirq -n "__fish_dirq_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand list" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand list" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand list" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand list" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand list" -l long -d 'Print each element instead of its name: one JSON message (dqs, dqn) or object (normal) a line'
complete -c dirq -n "__fish_dirq_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand get" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand get" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand get" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand get" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s c -l count -d 'How many elements at most; 0 for all' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s w -l wait -d 'When the queue is empty, wait for an element to arrive (at most SECONDS; without a value, for ever) instead of exiting 3 at once. Woken by inotify the moment an element is added; on NFS and other network filesystems it polls every 200 ms' -r
complete -c dirq -n "__fish_dirq_using_subcommand pop" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s l -l lines -d 'Follow each body with a newline'
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s 0 -l null -d 'Follow each body with a NUL byte (for bodies that hold newlines; `xargs -0`)'
complete -c dirq -n "__fish_dirq_using_subcommand pop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand purge" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand purge" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l maxtemp -d 'Age in seconds after which a temporary element is removed; 0 never' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l maxlock -d 'Age in seconds after which a lock is released; 0 never' -r
complete -c dirq -n "__fish_dirq_using_subcommand purge" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand lock" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand lock" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand lock" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand lock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand remove" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand remove" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand remove" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand generate" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand generate" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -s c -l count -d 'How many messages' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l text -d '0 binary, 1 text, 0-1 either at random' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l body-length -d 'Body length (bytes or characters)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l body-entropy -d 'Body entropy (0-4)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-count -d 'Number of header fields' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-name-prefix -d 'Prefix of header field names' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-name-length -d 'Length of header field names after the prefix' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-name-entropy -d 'Entropy of header field names (0-3)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-value-prefix -d 'Prefix of header field values' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-value-length -d 'Length of header field values after the prefix' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header-value-entropy -d 'Entropy of header field values (0-4)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l seed -d 'Seed of the pseudo-random generator (same seed, same messages)' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l header -d 'A header field every message gets (repeatable), e.g. destination=/queue/test' -r
complete -c dirq -n "__fish_dirq_using_subcommand generate" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dirq -n "__fish_dirq_using_subcommand touch" -s p -l path -d 'The queue\'s top directory (created if missing)' -r -F
complete -c dirq -n "__fish_dirq_using_subcommand touch" -s t -l type -d 'The queue kind' -r -f -a "simple\t'One file per element holding the raw body'
normal\t'One directory per element, one file per schema field (needs --schema to add or read)'
dqs\t'Messages, one serialized JSON message per Simple element (Messaging::Message DQS)'
dqn\t'Messages as Normal elements: header table, text or binary (Messaging::Message DQN)'"
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l schema -d 'Normal queues: the fields, e.g. \'body=binary,header=table?\' (types binary, string, table; \'?\' optional, \'*\' accepted)' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l umask -d 'Umask (octal) for what the queue creates; default: the process umask' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l granularity -d 'Simple queues: seconds per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l maxelts -d 'Normal queues: elements per intermediate directory' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l rndhex -d 'The hex digit (0-15) ending the names this command creates; default random' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l compression -d 'DQS queues: compress message bodies longer than 255 bytes when it pays off (zlib, lz4, snappy; a trailing \'!\' always compresses)' -r
complete -c dirq -n "__fish_dirq_using_subcommand touch" -l sync -d 'Durability: fsync each element and its directory before add reports it'
complete -c dirq -n "__fish_dirq_using_subcommand touch" -s h -l help -d 'Print help (see more with \'--help\')'
