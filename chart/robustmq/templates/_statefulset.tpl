{{/*
The StatefulSet, headless Service and PodDisruptionBudget of one role. The files in combined/, meta/, broker/ and
engine/ call these with (dict "ctx" $ "role" "<role>").
*/}}

{{- define "robustmq.statefulset" -}}
{{- $ctx := .ctx -}}
{{- $role := .role -}}
{{- $v := index $ctx.Values $role -}}
{{- $ports := include "robustmq.ports" $ctx | fromYaml -}}
{{- $c := include "robustmq.serverConfig" $ctx | fromYaml -}}
{{- $metaAddrs := include "robustmq.metaAddrs" $ctx | fromYaml -}}
{{- $metaList := list -}}
{{- range $k := keys $metaAddrs | sortAlpha -}}{{- $metaList = append $metaList (printf "%s=%s" $k (get $metaAddrs $k)) -}}{{- end -}}
{{- $isMetaRole := or (eq $role "meta") (eq $role "combined") -}}
{{- $secretMode := ternary 288 292 $ctx.Values.podSecurityContext.enabled -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "robustmq.roleName" . }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "robustmq.roleLabels" . | nindent 4 }}
spec:
  serviceName: {{ include "robustmq.headlessName" . }}
  replicas: {{ int $v.replicaCount }}
  # Parallel: after a full stop every voter must start to regain quorum; first-boot ordering is done by the init
  # container (it waits for a Raft leader), not by OrderedReady.
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  {{- if $v.persistence.enabled }}
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: {{ $v.persistence.retentionPolicy.whenDeleted }}
    whenScaled: {{ $v.persistence.retentionPolicy.whenScaled }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "robustmq.roleSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- /* the chart's labels win over podLabels with the same key */}}
        {{- merge (include "robustmq.roleLabels" . | fromYaml) (default dict $v.podLabels) | toYaml | nindent 8 }}
      annotations:
        checksum/config: {{ include "robustmq.configChecksum" $ctx }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "robustmq.serviceAccountName" $ctx }}
      automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountServiceAccountToken }}
      # no service links: the server rewrites server.toml lines from ROBUST_MQ_SERVER_* variables
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ int $ctx.Values.terminationGracePeriodSeconds }}
      {{- with $ctx.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- if $ctx.Values.podSecurityContext.enabled }}
      securityContext:
        {{- include "robustmq.podSecurityContext" $ctx | nindent 8 }}
      {{- end }}
      {{- include "robustmq.imagePullSecrets" (dict "ctx" $ctx "extra" $v.imagePullSecrets) | nindent 6 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- range . }}
        {{- $tsc := . }}
        {{- if not (hasKey $tsc "labelSelector") }}
        {{- $tsc = merge (dict "labelSelector" (dict "matchLabels" (include "robustmq.roleSelectorLabels" $ | fromYaml))) $tsc }}
        {{- end }}
        - {{- toYaml $tsc | nindent 10 }}
        {{- end }}
      {{- end }}
      initContainers:
        - name: config
          image: {{ include "robustmq.image" $ctx }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command: ["/bin/bash", "{{ include "robustmq.path" "scripts" }}/init-config.sh"]
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_INDEX
              valueFrom:
                fieldRef:
                  fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
            - name: RMQ_ROLE
              value: {{ $role | quote }}
            - name: RMQ_ID_BASE
              value: {{ include "robustmq.idBase" . | quote }}
            - name: RMQ_WITH_ENGINE
              value: {{ ternary "true" "false" (eq (include "robustmq.roleHasEngine" .) "true") | quote }}
            - name: RMQ_META_REPLICAS
              value: {{ ternary (include "robustmq.metaCount" $ctx) "0" (eq $role "combined") | quote }}
            - name: RMQ_HOST_SUFFIX
              value: {{ include "robustmq.hostSuffix" . | quote }}
            - name: RMQ_META_ADDRS
              value: {{ join " " $metaList | quote }}
            - name: RMQ_HTTP_PORT
              value: {{ $ports.http | quote }}
            - name: RMQ_ADMIN_USER
              value: {{ $c.admin.username | quote }}
          {{- if $ctx.Values.containerSecurityContext.enabled }}
          securityContext:
            {{- include "robustmq.containerSecurityContext" $ctx | nindent 12 }}
          {{- end }}
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              memory: 64Mi
          volumeMounts:
            - name: config
              mountPath: {{ include "robustmq.path" "template" }}
              subPath: server.toml.tmpl
              readOnly: true
            - name: scripts
              mountPath: {{ include "robustmq.path" "scripts" }}
              readOnly: true
            - name: secrets
              mountPath: {{ include "robustmq.path" "secrets" }}
              readOnly: true
            - name: tls
              mountPath: {{ include "robustmq.path" "tlsDir" }}
              readOnly: true
            - name: rendered
              mountPath: {{ include "robustmq.path" "rendered" }}
            - name: data
              mountPath: {{ include "robustmq.path" "data" }}
        {{- with $v.initContainers }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      containers:
        - name: robustmq
          image: {{ include "robustmq.image" $ctx }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command: ["/bin/bash", "{{ include "robustmq.path" "scripts" }}/run.sh"]
          workingDir: /robustmq
          ports:
            {{- range $name := splitList " " (include "robustmq.rolePortNames" .) }}
            - name: {{ $name }}
              containerPort: {{ get $ports $name }}
              protocol: {{ ternary "UDP" "TCP" (eq $name "quic") }}
            {{- end }}
          env:
            - name: RMQ_GRPC_PORT
              value: {{ $ports.grpc | quote }}
            {{- if eq $role "combined" }}
            - name: RMQ_MQTT_PORT
              value: {{ $ports.mqtt | quote }}
            {{- end }}
            {{- if $isMetaRole }}
            # run.sh repeats the first-boot wait when the server container restarts before this node became a voter
            - name: RMQ_META_ADDRS
              value: {{ join " " $metaList | quote }}
            # ready.sh's gRPC calls share what the kubelet allows the probe
            - name: RMQ_READY_TIMEOUT_SECONDS
              value: {{ $ctx.Values.probes.readiness.timeoutSeconds | quote }}
            {{- end }}
            {{- with $v.extraEnvVars }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if $ctx.Values.containerSecurityContext.enabled }}
          securityContext:
            {{- include "robustmq.containerSecurityContext" $ctx | nindent 12 }}
          {{- end }}
          # The admin HTTP port opens within seconds of start, before Raft; it is what liveness watches, so a node
          # that waits for quorum is not killed.
          startupProbe:
            tcpSocket:
              port: http
            periodSeconds: {{ $ctx.Values.probes.startup.periodSeconds }}
            failureThreshold: {{ $ctx.Values.probes.startup.failureThreshold }}
          livenessProbe:
            tcpSocket:
              port: http
            periodSeconds: {{ $ctx.Values.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $ctx.Values.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $ctx.Values.probes.liveness.failureThreshold }}
          readinessProbe:
            {{- if $isMetaRole }}
            exec:
              command: ["/bin/bash", "{{ include "robustmq.path" "scripts" }}/ready.sh"]
            {{- else if eq $role "broker" }}
            tcpSocket:
              port: mqtt
            {{- else }}
            tcpSocket:
              port: storage
            {{- end }}
            periodSeconds: {{ $ctx.Values.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $ctx.Values.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $ctx.Values.probes.readiness.failureThreshold }}
          {{- with $v.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: rendered
              mountPath: {{ include "robustmq.path" "config" }}
              subPath: server.toml
              readOnly: true
            - name: config
              mountPath: {{ include "robustmq.path" "logger" }}
              subPath: logger.toml
              readOnly: true
            - name: scripts
              mountPath: {{ include "robustmq.path" "scripts" }}
              readOnly: true
            - name: tls
              mountPath: {{ include "robustmq.path" "tlsDir" }}
              readOnly: true
            - name: data
              mountPath: {{ include "robustmq.path" "data" }}
            - name: logs
              mountPath: {{ include "robustmq.path" "logs" }}
            - name: tmp
              mountPath: /tmp
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
        {{- with $v.sidecars }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "robustmq.configMapName" $ctx }}
        - name: scripts
          configMap:
            name: {{ include "robustmq.scriptsConfigMapName" $ctx }}
            defaultMode: 0555
        - name: secrets
          secret:
            secretName: {{ include "robustmq.authSecretName" $ctx }}
            defaultMode: {{ $secretMode }}
            items:
              - key: admin-password
                path: admin-password
              - key: admin-jwt-secret
                path: admin-jwt-secret
              - key: mqtt-password
                path: mqtt-password
        - name: tls
          secret:
            secretName: {{ include "robustmq.tlsSecretName" $ctx }}
            defaultMode: {{ $secretMode }}
            items:
              - key: tls.crt
                path: tls.crt
              - key: tls.key
                path: tls.key
        # server.toml holds the passwords: keep it in memory, not on the node's disk
        - name: rendered
          emptyDir:
            medium: Memory
            sizeLimit: 1Mi
        - name: logs
          emptyDir:
            sizeLimit: 256Mi
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        {{- if not $v.persistence.enabled }}
        - name: data
          emptyDir: {}
        {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  {{- if $v.persistence.enabled }}
  volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: data
        labels:
          {{- include "robustmq.roleSelectorLabels" . | nindent 10 }}
        {{- with $v.persistence.annotations }}
        annotations:
          {{- toYaml . | nindent 10 }}
        {{- end }}
      spec:
        accessModes:
          {{- toYaml $v.persistence.accessModes | nindent 10 }}
        {{- if $v.persistence.storageClass }}
        storageClassName: {{ ternary "" $v.persistence.storageClass (eq $v.persistence.storageClass "-") | quote }}
        {{- end }}
        resources:
          requests:
            storage: {{ $v.persistence.size | quote }}
  {{- end }}
{{- end -}}

{{- define "robustmq.headlessService" -}}
{{- $ctx := .ctx -}}
{{- $ports := include "robustmq.ports" $ctx | fromYaml -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "robustmq.headlessName" . }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "robustmq.roleLabels" . | nindent 4 }}
    robustmq.io/service: headless
spec:
  type: ClusterIP
  clusterIP: None
  # Raft peers must resolve each other before they are Ready (they only become Ready with a quorum).
  publishNotReadyAddresses: true
  selector:
    {{- include "robustmq.roleSelectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $ports.grpc }}
      targetPort: grpc
      protocol: TCP
    - name: http
      port: {{ $ports.http }}
      targetPort: http
      protocol: TCP
    {{- if include "robustmq.roleHasEngine" . }}
    - name: storage
      port: {{ $ports.storage }}
      targetPort: storage
      protocol: TCP
    {{- end }}
{{- end -}}

{{- define "robustmq.pdb" -}}
{{- $ctx := .ctx -}}
{{- $v := index $ctx.Values .role -}}
{{- if $v.pdb.create }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "robustmq.roleName" . }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "robustmq.roleLabels" . | nindent 4 }}
spec:
  {{- if ne (toString (default "" $v.pdb.minAvailable)) "" }}
  minAvailable: {{ $v.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ ternary 1 $v.pdb.maxUnavailable (kindIs "invalid" $v.pdb.maxUnavailable) }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "robustmq.roleSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}
