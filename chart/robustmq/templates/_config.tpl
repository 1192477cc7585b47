{{/*
server.toml and logger.toml. The ConfigMap holds a server.toml TEMPLATE with no secrets: per-pod and secret values are
quoted placeholders ("@@NAME@@") that the init container replaces (files/scripts/init-config.sh). The template is valid
TOML by itself, and it writes every key of every section it emits (see files/server-defaults.yaml).
*/}}

{{/* Fixed paths inside the server container. */}}
{{- define "robustmq.path" -}}
{{- $p := dict
  "config" "/robustmq/config/server.toml"
  "logger" "/robustmq/config/logger.toml"
  "data" "/robustmq/data"
  "engineData" "/robustmq/data/engine"
  "logs" "/robustmq/logs"
  "tlsCert" "/robustmq/tls/tls.crt"
  "tlsKey" "/robustmq/tls/tls.key"
  "tlsDir" "/robustmq/tls"
  "template" "/robustmq/chart/config/server.toml.tmpl"
  "scripts" "/robustmq/chart/scripts"
  "secrets" "/robustmq/chart/secrets"
  "rendered" "/robustmq/chart/rendered"
-}}
{{- get $p . -}}
{{- end -}}

{{/* Keys of server.toml that only floats may hold (f32 in BrokerConfig). */}}
{{- define "robustmq.toml.floatKeys" -}}os_cpu_high_watermark os_memory_high_watermark{{- end -}}

{{- define "robustmq.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{/* One TOML value. Call with (dict "v" value "key" name). Helm reads every number as float64, so integers are
printed as integers unless the key is a float field. */}}
{{- define "robustmq.toml.value" -}}
{{- $v := .v -}}
{{- if kindIs "string" $v -}}
{{- toJson $v | replace "\u007f" "\\u007f" -}}
{{- else if kindIs "bool" $v -}}
{{- $v -}}
{{- else if or (kindIs "float64" $v) (kindIs "int64" $v) (kindIs "int" $v) -}}
{{- if has .key (splitList " " (include "robustmq.toml.floatKeys" .)) -}}
{{- if eq (float64 $v) (floor $v) -}}{{ printf "%.1f" (float64 $v) }}{{- else -}}{{ float64 $v }}{{- end -}}
{{- else if ne (float64 $v) (floor $v) -}}
{{- fail (printf "config: %s must be an integer, got %v" .key $v) -}}
{{- else -}}
{{- int64 $v -}}
{{- end -}}
{{- else if kindIs "slice" $v -}}
[{{ range $i, $e := $v }}{{ if $i }}, {{ end }}{{ include "robustmq.toml.value" (dict "v" $e "key" "") }}{{ end }}]
{{- else if kindIs "map" $v -}}
{ {{- range $i, $k := keys $v | sortAlpha }}{{ if $i }},{{ end }} {{ include "robustmq.toml.key" $k }} = {{ include "robustmq.toml.value" (dict "v" (get $v $k) "key" $k) }}{{ end }} }
{{- else -}}
{{- fail (printf "config: %s has no value (null is not allowed in server.toml)" .key) -}}
{{- end -}}
{{- end -}}

{{/* A table and its sub-tables. Call with (dict "path" list "table" dict). Scalars first, then sub-tables. */}}
{{- define "robustmq.toml.table" -}}
{{- $path := .path -}}
{{- $tbl := .table -}}
{{- if $path }}
[{{ join "." $path }}]
{{- end }}
{{- range $k := keys $tbl | sortAlpha }}
{{- $v := index $tbl $k }}
{{- if not (kindIs "map" $v) }}
{{ include "robustmq.toml.key" $k }} = {{ include "robustmq.toml.value" (dict "v" $v "key" $k) }}
{{- end }}
{{- end }}
{{- range $k := keys $tbl | sortAlpha }}
{{- $v := index $tbl $k }}
{{- if kindIs "map" $v }}
{{ include "robustmq.toml.table" (dict "path" (append $path $k) "table" $v) }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "robustmq.serverTomlTemplate" -}}
{{- $c := include "robustmq.serverConfig" . | fromYaml -}}
{{- $addrs := include "robustmq.metaAddrs" . | fromYaml -}}
{{- $sections := omit $c "cluster_name" "broker_id" "broker_ip" "roles" "meta_addrs" "data_path" "grpc_port" "http_port" -}}
{{- $_ := set $sections "log" (dict "log_config" (include "robustmq.path" "logger") "log_path" (include "robustmq.path" "logs")) -}}
{{- $_ := set $sections.broker_network "tls_cert" (include "robustmq.path" "tlsCert") -}}
{{- $_ := set $sections.broker_network "tls_key" (include "robustmq.path" "tlsKey") -}}
{{- $_ := set $sections.admin "password" "@@ADMIN_PASSWORD@@" -}}
{{- $_ := set $sections.admin "jwt_secret" "@@ADMIN_JWT_SECRET@@" -}}
{{- $_ := set $sections.mqtt_runtime.auth "default_password" "@@MQTT_PASSWORD@@" -}}
{{- $_ := set $sections.storage_runtime "data_path" "@@STORAGE_DATA_PATH@@" -}}
{{- if hasKey $sections "llm_client" }}{{ $_ := set $sections "llm_client" (omit $sections.llm_client "token") }}{{ end -}}
# server.toml template for RobustMQ {{ .Chart.AppVersion }}, rendered by the {{ .Chart.Name }} chart {{ .Chart.Version }}.
# The init container replaces every quoted @@NAME@@ placeholder (quotes included) with this pod's value; secrets come from
# the mounted Secret and are TOML-escaped. Every key of every section below is written on purpose: for some sections
# a missing key takes a different default than a missing section.
cluster_name = {{ toJson $c.cluster_name }}
broker_id = "@@BROKER_ID@@"
broker_ip = "@@BROKER_IP@@"
roles = "@@ROLES@@"
grpc_port = {{ int64 $c.grpc_port }}
http_port = {{ int64 $c.http_port }}
data_path = {{ include "robustmq.path" "data" | toJson }}
# meta_addrs: every Raft voter; the server iterates it in string order of the ids ("1" < "10" < "2").
meta_addrs = { {{- range $i, $k := keys $addrs | sortAlpha }}{{ if $i }},{{ end }} {{ toJson $k }} = {{ get $addrs $k | toJson }}{{ end }} }
{{ include "robustmq.toml.table" (dict "path" list "table" $sections) }}
{{ end -}}

{{/* Console-only logger. The last target silences print_conf (src/broker-server/src/common.rs, module
broker_server::common), which logs the whole config, passwords included, at info on start-up. */}}
{{- define "robustmq.loggerToml" -}}
# logger.toml rendered by the {{ .Chart.Name }} chart: console only (kubectl logs), no files on the data volume.
[stdout]
kind = "console"
ansi = {{ .Values.logging.ansi }}
{{- if .Values.logging.formatter }}
formatter = {{ toJson .Values.logging.formatter }}
{{- end }}
targets = [
    { path = "", level = {{ toJson .Values.logging.level }} },
    { path = "async_nats", level = "warn" },
{{- range .Values.logging.targets }}
    { path = {{ toJson .path }}, level = {{ toJson .level }} },
{{- end }}
    { path = "broker_server::common", level = "warn" },
]
{{ end -}}
