_stompclt() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="stompclt"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        stompclt)
            opts="-h -m -l -c -s -d -V --help --manual --list --incoming-broker-uri --incoming-broker-auth --incoming-broker-sockopts --incoming-queue --outgoing-broker-uri --outgoing-broker-auth --outgoing-broker-sockopts --outgoing-queue --reject-queue --quarantine --dedup --no-dedup --dedup-state --dedup-window --dedup-size --subscribe --reliable --no-reliable --prefetch --window --reconnect --no-reconnect --heart-beat --no-heart-beat --timeout-client --timeout-server --timeout-connect --timeout-broker --timeout-disconnect --timeout-flush --timeout-inactivity --timeout-linger --timeout-status --count --duration --loop --no-loop --remove --no-remove --lazy --no-lazy --strip-broker-headers --header-delete --header-rename --header-set --keep-if --drop-if --tap --callback-code --callback-path --callback-data --daemon --no-daemon --pidfile --quit --status --json --metrics-listen --metrics-allow-wildcard --metrics-file --metrics-interval --statistics --no-statistics --debug --log --logfile --loglevel --conf --cfg --config --config-general --incoming-broker-connect --incoming-broker-type --incoming-broker-stomp-debug --outgoing-broker-connect --outgoing-broker-type --outgoing-broker-stomp-debug --unsubscribe --batch --timeout-frame --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --incoming-broker-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-broker-auth)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-broker-sockopts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-auth)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-sockopts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reject-queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --quarantine)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dedup-state)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dedup-window)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dedup-size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --subscribe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --prefetch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --window)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-client)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-server)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-connect)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-broker)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-disconnect)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-flush)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-inactivity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-linger)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-status)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -c)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --header-delete)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --header-rename)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --header-set)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keep-if)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drop-if)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tap)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --callback-code)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --callback-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --callback-data)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pidfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metrics-listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metrics-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metrics-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log)
                    COMPREPLY=($(compgen -W "stdout syslog file null" -- "${cur}"))
                    return 0
                    ;;
                --logfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --loglevel)
                    COMPREPLY=($(compgen -W "debug info warning error" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --conf)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cfg)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config-general)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-broker-connect)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-broker-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --incoming-broker-stomp-debug)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-connect)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outgoing-broker-stomp-debug)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unsubscribe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --batch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-frame)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _stompclt -o nosort -o bashdefault -o default stompclt
else
    complete -F _stompclt -o bashdefault -o default stompclt
fi
