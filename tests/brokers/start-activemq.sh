#!/usr/bin/env bash
# Adapted from the toolkit's shared broker scripts; carried here so that tests run anywhere.
# Start Apache ActiveMQ 5.17 (Debian package "activemq") as root, without systemd,
# on loopback only, with its own config and data dir.
#   OpenWire : 127.0.0.1:${AMQ_OPENWIRE_PORT:-61616}
#   STOMP    : 127.0.0.1:${AMQ_STOMP_PORT:-61614}   (61614, so it can run beside RabbitMQ's 61613)
#   STOMP+TLS: 127.0.0.1:${AMQ_STOMPS_PORT:-61617}, test PKI of make-test-ca.sh in
#              ${MSGTK_PKI:-$AMQ_DATA/tls}; client certificates required
#   AMQP 1.0 : only when AMQ_AMQP_PORT is set (e.g. 5673) AND the activemq-amqp module is on the
#              classpath -- Debian's package does NOT ship it (no activemq-amqp.jar, no proton-j),
#              so by default no AMQP connector is configured. See ../spec/brokers.md.
# Credentials: simpleAuthenticationPlugin with admin/admin and guest/guest (AMQ_AUTH=0: anonymous,
#              any login accepted, which is ActiveMQ's stock behaviour).
# Data: ${AMQ_DATA:-/tmp/brokers/activemq}; AMQ_FRESH=1 wipes it first. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if [ ! -e /usr/share/activemq/bin/activemq.jar ]; then
    echo "installing activemq from Debian..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends activemq >/dev/null
fi

DATA=${AMQ_DATA:-/tmp/brokers/activemq}
OW_PORT=${AMQ_OPENWIRE_PORT:-61616}
STOMP_PORT=${AMQ_STOMP_PORT:-61614}
STOMPS_PORT=${AMQ_STOMPS_PORT:-61617}
AMQP_PORT=${AMQ_AMQP_PORT:-}
PIDFILE=$DATA/activemq.pid
TIMEOUT=${AMQ_START_TIMEOUT:-120}
HEAP=${AMQ_HEAP:-256M}

if pid_alive "$PIDFILE"; then
    echo "activemq: already running (pid $(cat "$PIDFILE"))"
else
    [ "${AMQ_FRESH:-0}" = 1 ] && rm -rf "$DATA"
    for p in "$OW_PORT" "$STOMP_PORT" "$STOMPS_PORT" $AMQP_PORT; do
        if port_busy "$p"; then
            echo "activemq: port $p already in use; set AMQ_OPENWIRE_PORT/AMQ_STOMP_PORT/AMQ_AMQP_PORT" >&2
            exit 1
        fi
    done
    mkdir -p "$DATA/conf" "$DATA/data" "$DATA/tmp"
    PKI=${MSGTK_PKI:-$DATA/tls}
    "$here/make-test-ca.sh" "$PKI" >/dev/null
    amqp_connector=""
    [ -n "$AMQP_PORT" ] && amqp_connector="<transportConnector name=\"amqp\" uri=\"amqp://127.0.0.1:$AMQP_PORT?maximumConnections=1000\"/>"
    auth=""
    if [ "${AMQ_AUTH:-1}" = 1 ]; then
        auth='<plugins>
            <simpleAuthenticationPlugin anonymousAccessAllowed="false">
                <users>
                    <authenticationUser username="admin" password="admin" groups="admins,users"/>
                    <authenticationUser username="guest" password="guest" groups="users"/>
                </users>
            </simpleAuthenticationPlugin>
        </plugins>'
    fi
    cat > "$DATA/conf/activemq.xml" <<XML
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
       http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
    <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
    <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="localhost"
            dataDirectory="\${activemq.data}" schedulePeriodForDestinationPurge="0">
        <persistenceAdapter>
            <kahaDB directory="\${activemq.data}/kahadb"/>
        </persistenceAdapter>
        <systemUsage>
            <systemUsage>
                <memoryUsage><memoryUsage percentOfJvmHeap="70"/></memoryUsage>
                <storeUsage><storeUsage limit="2 gb"/></storeUsage>
                <tempUsage><tempUsage limit="1 gb"/></tempUsage>
            </systemUsage>
        </systemUsage>
        $auth
        <sslContext>
            <sslContext keyStore="file:$PKI/server.p12" keyStorePassword="changeit" keyStoreType="PKCS12"
                        trustStore="file:$PKI/ca.p12" trustStorePassword="changeit" trustStoreType="PKCS12"/>
        </sslContext>
        <transportConnectors>
            <transportConnector name="openwire" uri="tcp://127.0.0.1:$OW_PORT?maximumConnections=1000"/>
            <transportConnector name="stomp" uri="stomp://127.0.0.1:$STOMP_PORT?maximumConnections=1000"/>
            <transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:$STOMPS_PORT?maximumConnections=1000&amp;needClientAuth=true"/>
            $amqp_connector
        </transportConnectors>
    </broker>
</beans>
XML
    cp /etc/activemq/instances-available/main/log4j2.properties "$DATA/conf/log4j2.properties"
    start=$(date +%s.%N)
    # Foreground java process put in the background; pid of java == our pidfile.
    setsid nohup java -Xms64M -Xmx"$HEAP" \
        -Dorg.apache.activemq.UseDedicatedTaskRunner=true \
        -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$DATA" \
        -Dactivemq.conf="$DATA/conf" -Dactivemq.data="$DATA/data" \
        -Djava.io.tmpdir="$DATA/tmp" \
        -Dlog4j2.configurationFile="file:$DATA/conf/log4j2.properties" \
        -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$DATA/conf/activemq.xml" \
        >"$DATA/stdout.log" 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    for p in "$OW_PORT" "$STOMP_PORT" "$STOMPS_PORT" $AMQP_PORT; do
        if ! wait_port 127.0.0.1 "$p" "$TIMEOUT" "$PIDFILE"; then
            echo "activemq: port $p did not open within ${TIMEOUT}s; see $DATA/stdout.log" >&2
            grep -E 'ERROR|WARN|Exception' "$DATA/stdout.log" | head -5 >&2 || true
            exit 1
        fi
    done
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "activemq: started in %.1fs\n", b - a }'
fi
pid=$(cat "$PIDFILE")
echo "activemq: pid $pid, RSS $(rss_kib "$pid") KiB"
echo "activemq: OpenWire 127.0.0.1:$OW_PORT  STOMP 127.0.0.1:$STOMP_PORT  STOMP+TLS 127.0.0.1:$STOMPS_PORT  AMQP ${AMQP_PORT:+127.0.0.1:$AMQP_PORT}${AMQP_PORT:-none}  users admin/admin guest/guest  data $DATA"
echo "activemq: stop with: $here/stop-activemq.sh"
