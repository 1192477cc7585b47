{{/*
Names, labels, ports and shared fragments. Everything that more than one template needs is defined here once.
*/}}

{{- define "robustmq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fullname, kept short enough that "<fullname>-engine-headless" and pod names stay within DNS label limits. */}}
{{- define "robustmq.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "robustmq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The roles (StatefulSets) of the selected topology. */}}
{{- define "robustmq.roles" -}}
{{- if eq .Values.topology "split" -}}meta broker engine{{- else -}}combined{{- end -}}
{{- end -}}

{{/* Name of a role's StatefulSet: the combined one is just the fullname. Call with (dict "ctx" $ "role" "meta"). */}}
{{- define "robustmq.roleName" -}}
{{- if eq .role "combined" -}}
{{- include "robustmq.fullname" .ctx -}}
{{- else -}}
{{- printf "%s-%s" (include "robustmq.fullname" .ctx) .role -}}
{{- end -}}
{{- end -}}

{{- define "robustmq.headlessName" -}}
{{- printf "%s-headless" (include "robustmq.roleName" .) -}}
{{- end -}}

{{/* <headless>.<namespace>.svc.<clusterDomain>: every pod FQDN is <pod>.<this>. */}}
{{- define "robustmq.hostSuffix" -}}
{{- printf "%s.%s.svc.%s" (include "robustmq.headlessName" .) .ctx.Release.Namespace .ctx.Values.clusterDomain -}}
{{- end -}}

{{- define "robustmq.clientServiceName" -}}{{ include "robustmq.fullname" . }}{{- end -}}
{{- define "robustmq.adminServiceName" -}}{{ include "robustmq.fullname" . }}-admin{{- end -}}
{{- define "robustmq.quicServiceName" -}}{{ include "robustmq.fullname" . }}-quic{{- end -}}
{{- define "robustmq.protocolsServiceName" -}}{{ include "robustmq.fullname" . }}-protocols{{- end -}}
{{- define "robustmq.configMapName" -}}{{ include "robustmq.fullname" . }}-config{{- end -}}
{{- define "robustmq.scriptsConfigMapName" -}}{{ include "robustmq.fullname" . }}-scripts{{- end -}}
{{- define "robustmq.clientLabel" -}}{{ include "robustmq.fullname" . }}-client{{- end -}}

{{- define "robustmq.authSecretName" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecret }}{{- else -}}{{ include "robustmq.fullname" . }}-auth{{- end -}}
{{- end -}}

{{- define "robustmq.tlsSecretName" -}}
{{- if eq .Values.tls.source "existingSecret" -}}{{ .Values.tls.existingSecret }}{{- else -}}{{ include "robustmq.fullname" . }}-tls{{- end -}}
{{- end -}}

{{- define "robustmq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "robustmq.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Selector labels: name + instance (+ component). Never anything that changes between chart versions. */}}
{{- define "robustmq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "robustmq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Call with (dict "ctx" $ "role" "broker"). */}}
{{- define "robustmq.roleSelectorLabels" -}}
{{ include "robustmq.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "robustmq.labels" -}}
{{ include "robustmq.selectorLabels" . }}
helm.sh/chart: {{ include "robustmq.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: robustmq
{{- end -}}

{{/* Call with (dict "ctx" $ "role" "broker"). */}}
{{- define "robustmq.roleLabels" -}}
{{ include "robustmq.labels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* The role's values block. Call with (dict "ctx" $ "role" "meta"). Returns YAML; use fromYaml. */}}
{{- define "robustmq.roleValues" -}}
{{- toYaml (index .ctx.Values .role) -}}
{{- end -}}

{{/* broker_id of ordinal 0 of a role. Meta ids are 1..N (at most 9, so the string order of meta_addrs keys is the
numeric order); brokers start at 1001 and engines at 2001 so split-mode ids never collide. */}}
{{- define "robustmq.idBase" -}}
{{- $bases := dict "combined" 1 "meta" 1 "broker" 1001 "engine" 2001 -}}
{{- get $bases .role -}}
{{- end -}}

{{/* The role that holds the Raft voters, and how many there are. */}}
{{- define "robustmq.metaRole" -}}
{{- if eq .Values.topology "split" -}}meta{{- else -}}combined{{- end -}}
{{- end -}}

{{- define "robustmq.metaCount" -}}
{{- if eq .Values.topology "split" -}}{{ int .Values.meta.replicaCount }}{{- else -}}{{ int .Values.combined.metaReplicas }}{{- end -}}
{{- end -}}

{{/*
Effective server.toml tree: files/server-defaults.yaml (every key, from the fixture derived from the v0.4.11 source)
merged with .Values.config. Returned as YAML; use fromYaml. Chart-managed keys are set later by robustmq.serverTomlTemplate.
*/}}
{{- define "robustmq.serverConfig" -}}
{{- $defaults := .Files.Get "files/server-defaults.yaml" | fromYaml -}}
{{- $cfg := mustMergeOverwrite (deepCopy $defaults) (deepCopy (default dict .Values.config)) -}}
{{- if not $cfg.cluster_name -}}
{{- $_ := set $cfg "cluster_name" (include "robustmq.fullname" .) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Container ports by name, from the effective config. Returns YAML. */}}
{{- define "robustmq.ports" -}}
{{- $c := include "robustmq.serverConfig" . | fromYaml -}}
{{- $m := $c.mqtt_runtime.server -}}
grpc: {{ int $c.grpc_port }}
http: {{ int $c.http_port }}
mqtt: {{ int $m.tcp_port }}
mqtts: {{ int $m.tls_port }}
ws: {{ int $m.websocket_port }}
wss: {{ int $m.websockets_port }}
quic: {{ int $m.quic_port }}
storage: {{ int $c.storage_runtime.tcp_port }}
kafka: {{ int $c.kafka_runtime.tcp_port }}
amqp: {{ int $c.amqp_runtime.tcp_port }}
nats: {{ int $c.nats_runtime.tcp_port }}
nats-tls: {{ int $c.nats_runtime.tls_port }}
nats-ws: {{ int $c.nats_runtime.ws_port }}
nats-wss: {{ int $c.nats_runtime.wss_port }}
{{- end -}}

{{/* Which named ports a role listens on. Call with (dict "ctx" $ "role" "broker"); returns a space separated list. */}}
{{- define "robustmq.roleHasEngine" -}}
{{- if or (eq .role "combined") (eq .role "engine") (and (eq .role "meta") .ctx.Values.meta.withEngine) (and (eq .role "broker") .ctx.Values.broker.withEngine) -}}true{{- end -}}
{{- end -}}

{{- define "robustmq.rolePortNames" -}}
{{- $names := list "grpc" "http" -}}
{{- if or (eq .role "combined") (eq .role "broker") -}}
{{- $names = concat $names (list "mqtt" "mqtts" "ws" "wss" "quic" "kafka" "amqp" "nats" "nats-tls" "nats-ws" "nats-wss") -}}
{{- end -}}
{{- if include "robustmq.roleHasEngine" . -}}
{{- $names = append $names "storage" -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The role that serves clients: combined, or broker in split mode. */}}
{{- define "robustmq.clientRole" -}}
{{- if eq .Values.topology "split" -}}broker{{- else -}}combined{{- end -}}
{{- end -}}

{{/* meta_addrs as ordered (id, host:port) pairs in string order of the id, which is how the server iterates them. */}}
{{- define "robustmq.metaAddrs" -}}
{{- $ctx := . -}}
{{- $role := include "robustmq.metaRole" . -}}
{{- $n := int (include "robustmq.metaCount" .) -}}
{{- $port := (include "robustmq.ports" . | fromYaml).grpc -}}
{{- $suffix := include "robustmq.hostSuffix" (dict "ctx" $ctx "role" $role) -}}
{{- $pod := include "robustmq.roleName" (dict "ctx" $ctx "role" $role) -}}
{{- $base := int (include "robustmq.idBase" (dict "role" $role)) -}}
{{- $addrs := dict -}}
{{- range $i := until $n -}}
{{- $_ := set $addrs (toString (add $base $i)) (printf "%s-%d.%s:%d" $pod $i $suffix (int $port)) -}}
{{- end -}}
{{- toYaml $addrs -}}
{{- end -}}

{{/* Image reference; the digest wins over the tag. */}}
{{- define "robustmq.image" -}}
{{- $registry := .Values.image.registry -}}
{{- if and .Values.global .Values.global.imageRegistry -}}{{- $registry = .Values.global.imageRegistry -}}{{- end -}}
{{- $repo := .Values.image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" $registry $repo -}}{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets of a pod: global + image + role. Call with (dict "ctx" $ "extra" list). */}}
{{- define "robustmq.imagePullSecrets" -}}
{{- $names := list -}}
{{- range (concat (default list .ctx.Values.global.imagePullSecrets) (default list .ctx.Values.image.pullSecrets) (default list .extra)) -}}
{{- if kindIs "map" . -}}{{- $names = append $names .name -}}{{- else -}}{{- $names = append $names . -}}{{- end -}}
{{- end -}}
{{- if $names }}
imagePullSecrets:
{{- range ($names | uniq) }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "robustmq.podSecurityContext" -}}
{{- $s := omit .Values.podSecurityContext "enabled" -}}
{{- if .Values.openshift -}}{{- $s = omit $s "runAsUser" "runAsGroup" "fsGroup" -}}{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{- define "robustmq.containerSecurityContext" -}}
{{- $s := omit .Values.containerSecurityContext "enabled" -}}
{{- if .Values.openshift -}}{{- $s = omit $s "runAsUser" "runAsGroup" -}}{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* "true" when the ServiceMonitor / PrometheusRule should render: explicit true, or auto and the CRD API exists. */}}
{{- define "robustmq.monitoringEnabled" -}}
{{- $v := .value -}}
{{- if kindIs "bool" $v -}}
{{- if $v -}}true{{- end -}}
{{- else if eq (toString $v) "true" -}}true
{{- else if and (eq (toString $v) "auto") (.ctx.Capabilities.APIVersions.Has .api) -}}true
{{- end -}}
{{- end -}}

{{/*
Checksum of the user input that shapes the server pods: the server.toml template (config values, ports, voters),
logger.toml, the scripts, where the TLS material and credentials come from and the certificate DNS names. Never a
generated value (random passwords, generated certificates), so rendering twice gives the same checksum (tested), and
scaling the broker or engine StatefulSet does not roll the others.
*/}}
{{- /* The scripts the server pods run: all of files/scripts but the CronJob's backup.sh, so that a change to the backup
script never restarts the servers (their checksum/config hashes this). */ -}}
{{- define "robustmq.serverScripts" -}}
{{- range $path, $_ := .Files.Glob "files/scripts/*.sh" }}
{{- if ne (base $path) "backup.sh" }}
{{ base $path }}: {{ $.Files.Get $path | sha256sum }}
{{- end }}
{{- end }}
{{- end }}

{{- define "robustmq.configChecksum" -}}
{{- $in := dict
  "template" (include "robustmq.serverTomlTemplate" .)
  "logger" (include "robustmq.loggerToml" .)
  "scripts" (include "robustmq.serverScripts" .)
  "tls" (dict "source" .Values.tls.source "secret" (include "robustmq.tlsSecretName" .) "names" (include "robustmq.tlsDnsNames" .))
  "auth" (include "robustmq.authSecretName" .)
-}}
{{- toJson $in | sha256sum -}}
{{- end -}}

{{/*
Scheduled backups (templates/backup/). The keys of the snapshot metadata are src/core/backup.ts's BACKUP_LABEL and
BACKUP_ANNOTATION; these are the parts fixed at render time, backup.sh adds the per-run and per-volume ones.
*/}}
{{- define "robustmq.backup.name" -}}{{ include "robustmq.fullname" . }}-backup{{- end -}}

{{- define "robustmq.backup.snapshotLabels" -}}
app.kubernetes.io/name: {{ include "robustmq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
backup.robustmq.io/origin: schedule
{{- end -}}

{{- define "robustmq.backup.snapshotAnnotations" -}}
backup.robustmq.io/release: {{ .Release.Name }}
backup.robustmq.io/namespace: {{ .Release.Namespace }}
backup.robustmq.io/chart-version: {{ .Chart.Version | quote }}
backup.robustmq.io/app-version: {{ .Chart.AppVersion | quote }}
backup.robustmq.io/topology: {{ .Values.topology }}
{{- end -}}

{{/* "role=statefulset ..." of the topology, and the roles whose pods keep their data on PVCs. */}}
{{- define "robustmq.backup.statefulSets" -}}
{{- $ctx := . -}}
{{- $out := list -}}
{{- range $role := splitList " " (include "robustmq.roles" .) -}}
{{- $out = append $out (printf "%s=%s" $role (include "robustmq.roleName" (dict "ctx" $ctx "role" $role))) -}}
{{- end -}}
{{- join " " $out -}}
{{- end -}}

{{- define "robustmq.backup.persistentRoles" -}}
{{- $ctx := . -}}
{{- $out := list -}}
{{- range $role := splitList " " (include "robustmq.roles" .) -}}
{{- if (index $ctx.Values $role).persistence.enabled -}}{{- $out = append $out $role -}}{{- end -}}
{{- end -}}
{{- join " " $out -}}
{{- end -}}

{{- define "robustmq.backup.image" -}}
{{- $i := .Values.backup.image -}}
{{- $registry := $i.registry -}}
{{- if and .Values.global .Values.global.imageRegistry -}}{{- $registry = .Values.global.imageRegistry -}}{{- end -}}
{{- $repo := $i.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" $registry $repo -}}{{- end -}}
{{- if $i.digest -}}
{{- printf "%s@%s" $repo $i.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString $i.tag) -}}
{{- end -}}
{{- end -}}

{{/* Problems of backup.* the schema cannot see (or that --skip-schema-validation lets through); a YAML list. */}}
{{- define "robustmq.backup.problems" -}}
{{- $e := list -}}
{{- $b := default dict .Values.backup -}}
{{- if $b.enabled -}}
{{- if not (include "robustmq.backup.persistentRoles" .) -}}
{{- $e = append $e "backup.enabled needs persistence on at least one role: without PVCs there is nothing to snapshot" -}}
{{- end -}}
{{- if not (regexMatch "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|\\S+(\\s+\\S+){4})$" (trim (toString $b.schedule))) -}}
{{- $e = append $e (printf "backup.schedule must be a cron expression of five fields or an @daily-style macro, got %q" (toString $b.schedule)) -}}
{{- end -}}
{{- if lt (int $b.retention) 1 -}}
{{- $e = append $e (printf "backup.retention must be at least 1 (how many scheduled backups to keep), got %v" $b.retention) -}}
{{- end -}}
{{- if lt (int $b.timeoutSeconds) 30 -}}
{{- $e = append $e (printf "backup.timeoutSeconds must be at least 30, got %v" $b.timeoutSeconds) -}}
{{- end -}}
{{- end -}}
{{- toYaml $e -}}
{{- end -}}
