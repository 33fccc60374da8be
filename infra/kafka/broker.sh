#!/bin/bash
# The compose broker (docker-compose.yml mounts this as the kafka service's entrypoint; it
# runs in apache/kafka or the project's drop-in, both with /opt/kafka/bin).
#
# Clients sign in with SASL/SCRAM-SHA-512 over TLS, on two listeners: CLIENT (kafka:9092,
# the compose network) and EXTERNAL (the published port, for systems on other machines).
# The certificate and its key are the operator's files (PEM, the key unencrypted PKCS#8,
# "BEGIN PRIVATE KEY"), named for both addresses. The broker's own traffic (inter-broker,
# controller) uses PLAIN on loopback listeners no other container can reach, as the one
# super-user, hnth-broker. At every start the broker sets the admin's SCRAM password from
# the environment (so changing it in .env and restarting rotates it) and grants the admin
# its ACLs; /tmp/hnth/ready then tells the healthcheck the bus can be provisioned.
set -euo pipefail
: "${HNTH_KAFKA_BROKER_PASSWORD:?set HNTH_KAFKA_BROKER_PASSWORD}"
: "${HNTH_KAFKA_ADMIN_PASSWORD:?set HNTH_KAFKA_ADMIN_PASSWORD}"
bin=${KAFKA_BIN:-/opt/kafka/bin}
work=${HNTH_KAFKA_WORK:-/tmp/hnth}
data=${HNTH_KAFKA_DATA:-/var/lib/kafka/data}
host=${HNTH_KAFKA_HOST:-kafka}
public_host=${HNTH_KAFKA_PUBLIC_HOST:-localhost}
public_port=${HNTH_KAFKA_PUBLIC_PORT:-9094}
port=${HNTH_KAFKA_PORT:-9092}
external_port=${HNTH_KAFKA_EXTERNAL_PORT:-9094}
broker_port=${HNTH_KAFKA_BROKER_PORT:-9091}
controller_port=${HNTH_KAFKA_CONTROLLER_PORT:-9093}
certificate=${HNTH_KAFKA_TLS_CERT:-/run/secrets/kafka_tls_cert}
key=${HNTH_KAFKA_TLS_KEY:-/run/secrets/kafka_tls_key}

umask 077
mkdir -p "$work"
rm -f "$work/ready"
# one PEM keystore, the key then its certificate chain, as Kafka's PEM keystore reads it
cat "$key" "$certificate" > "$work/keystore.pem"
plain='org.apache.kafka.common.security.plain.PlainLoginModule required'
scram='org.apache.kafka.common.security.scram.ScramLoginModule required;'
broker_login="$plain username=\"hnth-broker\" password=\"$HNTH_KAFKA_BROKER_PASSWORD\""
cat > "$work/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=CLIENT://:$port,EXTERNAL://:$external_port,BROKER://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=CLIENT://$host:$port,EXTERNAL://$public_host:$public_port,BROKER://127.0.0.1:$broker_port
listener.security.protocol.map=CLIENT:SASL_SSL,EXTERNAL:SASL_SSL,BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=BROKER
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=$scram
listener.name.external.scram-sha-512.sasl.jaas.config=$scram
listener.name.broker.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.broker.plain.sasl.jaas.config=$broker_login user_hnth-broker="$HNTH_KAFKA_BROKER_PASSWORD";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=$broker_login user_hnth-broker="$HNTH_KAFKA_BROKER_PASSWORD";
ssl.keystore.type=PEM
ssl.keystore.location=$work/keystore.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:hnth-broker
log.dirs=$data
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
# how the broker's own tools sign in (the healthcheck uses it too)
cat > "$work/broker-client.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=$broker_login;
EOF
if [ ! -f "$data/meta.properties" ]; then
  "$bin/kafka-storage.sh" format -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" \
    -c "$work/server.properties"
fi

# the admin, once the broker answers: its password (idempotent) and its ACLs
(
  tool=(--bootstrap-server "127.0.0.1:$broker_port" --command-config "$work/broker-client.properties")
  until "$bin/kafka-configs.sh" "${tool[@]}" --alter --entity-type users --entity-name hnth-admin \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=$HNTH_KAFKA_ADMIN_PASSWORD]" >/dev/null; do
    sleep 2
  done
  "$bin/kafka-acls.sh" "${tool[@]}" --add --allow-principal User:hnth-admin --operation All \
    --cluster --topic '*' --group '*' >/dev/null
  touch "$work/ready"
  echo "hnth: the admin's password and ACLs are set"
) &
exec "$bin/kafka-server-start.sh" "$work/server.properties"
