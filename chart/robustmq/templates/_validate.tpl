{{/* All value checks in one place; one `fail` lists every problem. */}}
{{- define "robustmq.validate" -}}
{{- $e := list -}}
{{- $v := .Values -}}
{{- $split := eq $v.topology "split" -}}
{{- if not (has $v.topology (list "combined" "split")) -}}
{{- $e = append $e (printf "topology must be combined or split, got %q" (toString $v.topology)) -}}
{{- end -}}
{{- $voters := int (include "robustmq.metaCount" .) -}}
{{- $votersKey := ternary "meta.replicaCount" "combined.metaReplicas" $split -}}
{{- if or (lt $voters 1) (gt $voters 9) (eq (mod $voters 2) 0) -}}
{{- $e = append $e (printf "%s must be odd and between 1 and 9 (Raft voters), got %d" $votersKey $voters) -}}
{{- end -}}
{{- if and (not $split) (gt (int $v.combined.metaReplicas) (int $v.combined.replicaCount)) -}}
{{- $e = append $e (printf "combined.metaReplicas (%d) cannot exceed combined.replicaCount (%d)" (int $v.combined.metaReplicas) (int $v.combined.replicaCount)) -}}
{{- end -}}
{{- range $role := splitList " " (include "robustmq.roles" .) -}}
{{- $n := int (index $v $role).replicaCount -}}
{{- if or (lt $n 1) (gt $n 1000) -}}
{{- $e = append $e (printf "%s.replicaCount must be between 1 and 1000 (broker_id ranges), got %d" $role $n) -}}
{{- end -}}
{{- end -}}
{{- if lt (int $v.terminationGracePeriodSeconds) 30 -}}
{{- $e = append $e "terminationGracePeriodSeconds must be at least 30: the server force-exits 20 s after SIGTERM and needs that time" -}}
{{- end -}}
{{- /* ports */ -}}
{{- $ports := include "robustmq.ports" . | fromYaml -}}
{{- $seen := dict -}}
{{- range $name := keys $ports | sortAlpha -}}
{{- $p := toString (get $ports $name) -}}
{{- $proto := ternary "udp" "tcp" (eq $name "quic") -}}
{{- $key := printf "%s/%s" $proto $p -}}
{{- if hasKey $seen $key -}}
{{- $e = append $e (printf "port clash: %s and %s both use %s port %s" (get $seen $key) $name $proto $p) -}}
{{- else -}}
{{- $_ := set $seen $key $name -}}
{{- end -}}
{{- if or (lt (int $p) 1024) (gt (int $p) 65535) -}}
{{- $e = append $e (printf "port %s (%s) must be between 1024 and 65535: the server runs without root and without NET_BIND_SERVICE" $p $name) -}}
{{- end -}}
{{- end -}}
{{- $svcSeen := dict -}}
{{- $svcPorts := list "mqtt" "ws" -}}
{{- if $v.tls.exposeOnService }}{{ $svcPorts = concat $svcPorts (list "mqtts" "wss") }}{{ end -}}
{{- range $name := $svcPorts -}}
{{- $p := toString (get $v.service.ports $name) -}}
{{- if hasKey $svcSeen $p -}}
{{- $e = append $e (printf "port clash on the client Service: service.ports.%s and service.ports.%s are both %s" (get $svcSeen $p) $name $p) -}}
{{- else -}}
{{- $_ := set $svcSeen $p $name -}}
{{- end -}}
{{- end -}}
{{- /* exposure */ -}}
{{- if and $v.ingress.enabled (not $v.ingress.hosts) -}}
{{- $e = append $e "ingress.enabled needs at least one host in ingress.hosts (MQTT over WebSocket)" -}}
{{- end -}}
{{- if and $v.httpRoute.enabled (not $v.httpRoute.parentRefs) -}}
{{- $e = append $e "httpRoute.enabled needs httpRoute.parentRefs (the Gateway to attach to)" -}}
{{- end -}}
{{- /* TLS */ -}}
{{- if and (eq $v.tls.source "existingSecret") (not $v.tls.existingSecret) -}}
{{- $e = append $e "tls.source=existingSecret needs tls.existingSecret (a kubernetes.io/tls Secret with tls.crt and tls.key)" -}}
{{- end -}}
{{- if and (eq $v.tls.source "certManager") (not $v.tls.certManager.issuerRef.name) -}}
{{- $e = append $e "tls.source=certManager needs tls.certManager.issuerRef.name" -}}
{{- end -}}
{{- if not (has $v.tls.source (list "selfSigned" "existingSecret" "certManager")) -}}
{{- $e = append $e (printf "tls.source must be selfSigned, existingSecret or certManager, got %q" (toString $v.tls.source)) -}}
{{- end -}}
{{- /* server.toml keys the chart owns (the schema refuses them too, but --skip-schema-validation exists) */ -}}
{{- $c := default dict $v.config -}}
{{- range $k := list "broker_id" "broker_ip" "roles" "meta_addrs" "data_path" "log" -}}
{{- if hasKey $c $k -}}
{{- $e = append $e (printf "config.%s is managed by the chart (per pod, by the init container) and cannot be set" $k) -}}
{{- end -}}
{{- end -}}
{{- range $pair := list (list "broker_network" "tls_cert") (list "broker_network" "tls_key") (list "admin" "password") (list "admin" "jwt_secret") (list "storage_runtime" "data_path") (list "llm_client" "token") -}}
{{- $sec := index $pair 0 -}}{{- $key := index $pair 1 -}}
{{- if and (hasKey $c $sec) (kindIs "map" (get $c $sec)) (hasKey (get $c $sec) $key) -}}
{{- $e = append $e (printf "config.%s.%s is managed by the chart and cannot be set (TLS paths come from tls.*, secrets from the auth Secret)" $sec $key) -}}
{{- end -}}
{{- end -}}
{{- if and (hasKey $c "mqtt_runtime") (hasKey (default dict $c.mqtt_runtime) "auth") (hasKey (default dict $c.mqtt_runtime.auth) "default_password") -}}
{{- $e = append $e "config.mqtt_runtime.auth.default_password is managed by the chart: set mqtt-password in the auth Secret" -}}
{{- end -}}
{{- if hasKey $c "delay_task" -}}
{{- $dt := default dict $c.delay_task -}}
{{- if not (and (hasKey $dt "delay_task_queue_num") (hasKey $dt "delay_task_handler_concurrency")) -}}
{{- $e = append $e "config.delay_task must set both delay_task_queue_num and delay_task_handler_concurrency (the chart writes every key of a section it emits; the concurrency default is the CPU count)" -}}
{{- end -}}
{{- end -}}
{{- range $v.logging.targets -}}
{{- if hasPrefix "broker_server::common" (toString .path) -}}
{{- $e = append $e "logging.targets cannot change broker_server::common: it would re-enable the start-up config dump, which logs the passwords" -}}
{{- end -}}
{{- end -}}
{{- $e = concat $e (include "robustmq.backup.problems" . | fromYamlArray) -}}
{{- if $e -}}
{{- fail (printf "\n\nVALUES VALIDATION:\n  - %s\n" (join "\n  - " $e)) -}}
{{- end -}}
{{- end -}}
