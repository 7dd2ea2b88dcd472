{{- /*
Partials of the GitOps wiring. Values of each network profile are explained
in docs/gitops.md; change them there too.
*/ -}}

{{- /* gitops.root: the tree's directory in the repository, "" for its root. */ -}}
{{- define "gitops.root" -}}
{{- if ne .Fleet.GitOps.Path "." }}{{ .Fleet.GitOps.Path }}/{{ end -}}
{{- end -}}

{{- /* gitops.sparseCheckout (Flux): the directories, from the repository's
root, that one site's overlay build reads: base/, each component the site
uses, its chart renders (docs/charts.md) and its own overlay; then the
charts of its releases in mode release kept in the repository, which its
HelmReleases build from this source. As JSON {"dirs": [...]}, read with fromJson. */ -}}
{{- define "gitops.sparseCheckout" -}}
{{- $root := include "gitops.root" . -}}
{{- $dirs := list (printf "%sbase" $root) -}}
{{- range .Site.Components }}{{ $dirs = append $dirs (printf "%scomponents/%s" $root .) }}{{ end -}}
{{- range .Site.ChartDirs }}{{ $dirs = append $dirs (printf "%s%s" $root .) }}{{ end -}}
{{- $dirs = append $dirs (printf "%soverlays/%s" $root .Site.Name) -}}
{{- range .Site.ReleaseChartDirs }}{{ if not (has . $dirs) }}{{ $dirs = append $dirs . }}{{ end }}{{ end -}}
{{- dict "dirs" $dirs | toJson -}}
{{- end -}}

{{- /* gitops.waveRef (Flux): the branch a site's source follows. Wave 0
follows gitops.branch; wave n follows "<branch>-wave-<n>", fast-forwarded
from the previous wave's branch once that wave is healthy (docs/gitops.md).
Airgapped sites use it, with "/" made "-", as their OCI tag. */ -}}
{{- define "gitops.waveRef" -}}
{{- .Fleet.GitOps.Branch }}{{ if gt .Site.Wave 0 }}-wave-{{ .Site.Wave }}{{ end -}}
{{- end -}}

{{- /* gitops.sopsRecipients: the age recipients of one site's secrets
(the site's own key, then the fleet's admins), comma-separated as SOPS reads
them. Called with (list $site $.Fleet.GitOps.AdminRecipients). */ -}}
{{- define "gitops.sopsRecipients" -}}
{{- $site := index . 0 -}}
{{- $admins := index . 1 -}}
{{- prepend $admins $site.AgeRecipient | join "," -}}
{{- end -}}

{{- /* argocd.project: the AppProject of a site's Applications, from the
fleet name, the site's maintenance window and whether it uses component
wasm: "<fleet>" for a site without a window, "<fleet>-mw-<10 hex digits of
the window's SHA-256>" for one with a window, so that sites sharing a
window share a project; "-wasm" added for a site using wasm, whose project
alone admits the RuntimeClass. Called with
(list $.Fleet.Name $site.MaintenanceWindow WASM). */ -}}
{{- define "argocd.project" -}}
{{- $fleet := index . 0 -}}
{{- $w := index . 1 -}}
{{- if $w.Schedule -}}
{{- printf "%s-mw-%s" $fleet (printf "%s|%s|%s" $w.Schedule $w.Duration $w.TimeZone | sha256sum | trunc 10) -}}
{{- else -}}
{{- $fleet -}}
{{- end -}}
{{- if index . 2 }}-wasm{{ end -}}
{{- end -}}

{{- /* argocd.cluster: the prefix of the Argo CD cluster names of the
fleet's sites; a site's cluster is registered as "<fleet>--<site>" and the
AppProjects allow "<fleet>--*". docs/gitops.md explains the registration. */ -}}
{{- define "argocd.clusterPrefix" -}}
{{- printf "%s--" . -}}
{{- end -}}

{{- /* argocd.siteParams: the name, relative to the tree, of the file
holding one site's ApplicationSet parameters, with "*" for the site. */ -}}
{{- define "argocd.siteParams" -}}overlays/*/argocd-site.json{{- end -}}

{{- /* gitops.applier: what a site's applier (the service account its
GitOps engine applies the overlay as, see docs/gitops.md, "Least-privilege
applier") may touch, as JSON {"namespaced": [rule...], "cluster": [rule...],
"optional": [resource...]} with rule {"group", "resources"}, read with
fromJson; "optional" are namespaced resources granted before the overlay
has objects of them; "releaseNamespaces" the namespaces of the site's Helm
releases other than the fleet's, which the overlay creates (restricted,
default-deny); "namespaces" every namespace but the fleet's the overlay
puts objects in, as {"name", "rules": [rule...], "created": the overlay
creates it, "rendered": objects of releases in mode rendered are in it}.
It lists exactly the kinds the site's overlay builds: the base's kinds, the
ResourceQuota of a site with capacity, the namespaced and cluster-scoped
kinds of the components the site uses, and those of the objects of its
Helm chart releases. fleetgen verify compares it with the built objects (policy
applier-rbac), so a kind added to base/ or a component without a change
here is a finding that names the site and the kind. */ -}}
{{- define "gitops.applier" -}}
{{- $ns := list
  (dict "group" "" "resources" (list "configmaps" "serviceaccounts" "services"))
  (dict "group" "apps" "resources" (list "deployments"))
  (dict "group" "networking.k8s.io" "resources" (list "networkpolicies"))
  (dict "group" "rbac.authorization.k8s.io" "resources" (list "rolebindings" "roles"))
-}}
{{- $core := index $ns 0 -}}
{{- if include "fleet.hasCapacity" . -}}
{{- $_ := set $core "resources" (append $core.resources "resourcequotas" | sortAlpha) -}}
{{- end -}}
{{- /* A site with an age key keeps SOPS-encrypted Secrets in
overlays/<site>/secrets/, hand-written and referenced from local/: the
applier may apply Secrets, and the coverage check accepts the rule while
the site has none yet (listed in "optional"). */ -}}
{{- $optional := list -}}
{{- if .Site.AgeRecipient -}}
{{- $_ := set $core "resources" (append $core.resources "secrets" | sortAlpha) -}}
{{- $optional = append $optional "secrets" -}}
{{- end -}}
{{- /* Namespaced kinds a component adds, by component. */ -}}
{{- $componentNamespaced := dict
  "mtls" (list (dict "group" "cert-manager.io" "resources" (list "certificates" "issuers")))
-}}
{{- range .Site.Components -}}
{{- if hasKey $componentNamespaced . -}}
{{- range (get $componentNamespaced .) -}}
{{- $ns = append $ns . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* Helm chart releases in mode release (docs/charts.md): the site's
overlay has a HelmRelease per release and, for a chart not kept in the
repository, its source, all in the fleet's namespace; helm-controller
applies the chart's objects with its own rights. */ -}}
{{- $releases := false -}}
{{- $sources := dict -}}
{{- $releaseNS := dict -}}
{{- range .Site.Charts -}}
{{- if eq .Mode "release" -}}
{{- $releases = true -}}
{{- if and .Namespace (ne .Namespace (include "fleet.namespace" $)) -}}
{{- $_ := set $releaseNS .Namespace true -}}
{{- end -}}
{{- if or (eq $.Site.Network "airgapped") (hasPrefix "oci://" .Chart) -}}
{{- $_ := set $sources "ocirepositories" true -}}
{{- else if .Repo -}}
{{- $_ := set $sources "helmrepositories" true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $releases -}}
{{- $ns = append $ns (dict "group" "helm.toolkit.fluxcd.io" "resources" (list "helmreleases")) -}}
{{- end -}}
{{- with $sources -}}
{{- $ns = append $ns (dict "group" "source.toolkit.fluxcd.io" "resources" (keys . | sortAlpha)) -}}
{{- end -}}
{{- /* Cluster-scoped objects a component adds, by component. */ -}}
{{- $componentKinds := dict
  "wasm" (list (dict "group" "node.k8s.io" "resources" (list "runtimeclasses")))
-}}
{{- $cluster := list -}}
{{- range .Site.Components -}}
{{- if hasKey $componentKinds . -}}
{{- range (get $componentKinds .) -}}
{{- $cluster = append $cluster . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* Helm chart releases in mode rendered (docs/charts.md): the site's
overlay applies the rendered objects, so the applier may apply their
kinds (.Kinds, which fleetgen lists from the render) where they are: in
the fleet's namespace beside the base's kinds, cluster-wide, or in a
namespace of their own, which the overlay creates (restricted,
default-deny) when it is the release's namespace. */ -}}
{{- $fleetNS := include "fleet.namespace" . -}}
{{- $chartNS := dict -}}
{{- $chartCluster := dict -}}
{{- range .Site.Charts -}}
{{- if eq .Mode "rendered" -}}
{{- if and .Namespace (ne .Namespace $fleetNS) -}}
{{- $_ := set $releaseNS .Namespace true -}}
{{- end -}}
{{- range .Kinds -}}
{{- $into := $chartCluster -}}
{{- if .Namespace -}}
{{- if not (hasKey $chartNS .Namespace) }}{{ $_ := set $chartNS .Namespace (dict) }}{{ end -}}
{{- $into = get $chartNS .Namespace -}}
{{- end -}}
{{- if not (hasKey $into .Group) }}{{ $_ := set $into .Group (dict) }}{{ end -}}
{{- $_ := set (get $into .Group) .Resource true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if hasKey $chartNS $fleetNS -}}
{{- $ns = include "gitops.mergeRules" (list $ns (get $chartNS $fleetNS)) | fromJson -}}
{{- $_ := unset $chartNS $fleetNS -}}
{{- end -}}
{{- if $chartCluster -}}
{{- $cluster = include "gitops.mergeRules" (list $cluster $chartCluster) | fromJson -}}
{{- end -}}
{{- /* Every namespace but the fleet's the overlay puts objects in: those
it creates for releases (default-deny NetworkPolicy included) and those
rendered objects name. */ -}}
{{- $others := list -}}
{{- range concat (keys $releaseNS) (keys $chartNS) | uniq | sortAlpha -}}
{{- $groups := dict -}}
{{- if hasKey $chartNS . }}{{ $groups = get $chartNS . }}{{ end -}}
{{- if hasKey $releaseNS . -}}
{{- if not (hasKey $groups "networking.k8s.io") }}{{ $_ := set $groups "networking.k8s.io" (dict) }}{{ end -}}
{{- $_ := set (get $groups "networking.k8s.io") "networkpolicies" true -}}
{{- end -}}
{{- $rules := include "gitops.mergeRules" (list (list) $groups) | fromJson -}}
{{- $others = append $others (dict "name" . "rules" $rules "created" (hasKey $releaseNS .) "rendered" (hasKey $chartNS .)) -}}
{{- end -}}
{{- dict "namespaced" $ns "cluster" $cluster "optional" $optional "releaseNamespaces" (keys $releaseNS | sortAlpha) "namespaces" $others | toJson -}}
{{- end -}}

{{- /* gitops.mergeRules: (list RULES GROUPS) with RULES a list of rules
{"group", "resources"} and GROUPS a dict group -> dict resource -> any:
RULES with each group's resources added to the rule of that group (sorted,
each once) or, for a group RULES has no rule for, to a new rule at the
end (new rules in group order), as a JSON array. */ -}}
{{- define "gitops.mergeRules" -}}
{{- $rules := list -}}
{{- range index . 0 -}}
{{- $rules = append $rules (dict "group" .group "resources" .resources) -}}
{{- end -}}
{{- range $group, $res := index . 1 -}}
{{- $merged := false -}}
{{- range $rules -}}
{{- if eq .group $group -}}
{{- $_ := set . "resources" (concat .resources (keys $res) | uniq | sortAlpha) -}}
{{- $merged = true -}}
{{- end -}}
{{- end -}}
{{- if not $merged -}}
{{- $rules = append $rules (dict "group" $group "resources" (keys $res | sortAlpha)) -}}
{{- end -}}
{{- end -}}
{{- toJson $rules -}}
{{- end -}}

{{- /* gitops.applierVerbs: what the applier may do with each kind it
applies: what server-side apply, health checks and pruning need. */ -}}
{{- define "gitops.applierVerbs" -}}["get", "list", "watch", "create", "update", "patch", "delete"]{{- end -}}
