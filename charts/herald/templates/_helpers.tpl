{{/* Labels every object carries: the app name, what the chart adds, and commonLabels. */}}
{{- define "herald.labels" -}}
app.kubernetes.io/name: herald
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Where a remote cluster's kubeconfig is mounted, and so what --cluster names. */}}
{{- define "herald.kubeconfigPath" -}}
{{- $key := .key | default (printf "%s.kubeconfig" .name) -}}
{{- if .secretName -}}
/etc/herald/remote/{{ .name }}/{{ $key }}
{{- else -}}
/etc/herald/kubeconfigs/{{ $key }}
{{- end -}}
{{- end }}

{{/* True when some remote cluster reads the shared kubeconfig Secret. */}}
{{- define "herald.sharedKubeconfigs" -}}
{{- range .Values.remoteClusters }}{{ if not .secretName }}yes{{ end }}{{ end -}}
{{- end }}
