{{/* DNS names of the server certificate: every pod of every role (wildcard on the headless Service), every Service,
and localhost. It does not depend on replica counts, so scaling keeps the certificate valid. */}}
{{- define "robustmq.tlsDnsNames" -}}
{{- $ctx := . -}}
{{- $ns := .Release.Namespace -}}
{{- $d := .Values.clusterDomain -}}
{{- $names := list -}}
{{- range $svc := list (include "robustmq.clientServiceName" $ctx) (include "robustmq.quicServiceName" $ctx) (include "robustmq.protocolsServiceName" $ctx) }}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns $d)) -}}
{{- end }}
{{- range $role := splitList " " (include "robustmq.roles" $ctx) }}
{{- $h := include "robustmq.headlessName" (dict "ctx" $ctx "role" $role) -}}
{{- $names = concat $names (list (printf "*.%s.%s.svc.%s" $h $ns $d) (printf "*.%s.%s.svc" $h $ns) (printf "*.%s.%s" $h $ns)) -}}
{{- end }}
{{- $names = concat $names (list "localhost") (default list .Values.tls.extraDnsNames) -}}
{{- toYaml ($names | uniq) -}}
{{- end -}}
