{{- /*
Partials of the K3s bootstrap bundle (bootstrap/<site>/). Values come from
.Site.K3s and .Site.K3s.Resolved (pkg/k3s) and reach YAML through toYaml.
*/ -}}

{{- /* k3s.nodeConfig: the keys every node of the site has, agent flags
only, merged with the extra keys given. Called with (list .Site.K3s EXTRA). */ -}}
{{- define "k3s.nodeConfig" -}}
{{- $k := index . 0 -}}
{{- $_ := required "the K3s bootstrap values are not computed (.Site.K3s.Resolved is nil): render through the fleetgen pipeline" $k.Resolved -}}
{{- $cfg := index . 1 -}}
{{- $_ := set $cfg "token-file" $k.TokenFile -}}
{{- $_ := set $cfg "node-label" $k.Resolved.NodeLabels -}}
{{- if $k.NodeTaints }}{{ $_ := set $cfg "node-taint" $k.NodeTaints }}{{ end -}}
{{- /* CIS: the kubelet refuses kernel settings other than its defaults. */ -}}
{{- $_ := set $cfg "protect-kernel-defaults" true -}}
{{- $_ := set $cfg "kubelet-arg" (concat $k.Resolved.KubeletArgs (list "streaming-connection-idle-timeout=5m" "make-iptables-util-chains=true" "read-only-port=0" "anonymous-auth=false")) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{- /* k3s.serverConfig: a server's config. Called with (list .Site.K3s
FIRST), FIRST true for the first server. */ -}}
{{- define "k3s.serverConfig" -}}
{{- $k := index . 0 -}}
{{- $first := index . 1 -}}
{{- $r := $k.Resolved -}}
{{- $cfg := dict "write-kubeconfig-mode" "0600" "secrets-encryption" true -}}
{{- if $r.Disable }}{{ $_ := set $cfg "disable" $r.Disable }}{{ end -}}
{{- if and $first (eq $r.Datastore "etcd") }}{{ $_ := set $cfg "cluster-init" true }}{{ end -}}
{{- if not $first }}{{ $_ := set $cfg "server" $k.JoinAddress }}{{ end -}}
{{- $_ := set $cfg "kube-apiserver-arg" (list "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log" "audit-policy-file=/var/lib/rancher/k3s/server/audit-policy.yaml" "audit-log-maxage=30" "audit-log-maxbackup=10" "audit-log-maxsize=100" "service-account-lookup=true") -}}
{{- $_ := set $cfg "kube-controller-manager-arg" (list "terminated-pod-gc-threshold=10") -}}
{{- include "k3s.nodeConfig" (list $k $cfg) -}}
{{- end -}}
