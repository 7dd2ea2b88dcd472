package gitops

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Argo CD types below are the subset of argoproj.io/v1alpha1 that the
// default template set emits, with Argo CD's json names. Argo CD's own Go
// module is too heavy to depend on; any field outside this subset is
// reported as unknown, so a template that grows a new field must add it
// here too, checked against Argo CD's CRD reference.

// ApplicationSet is argoproj.io/v1alpha1 ApplicationSet (subset).
type ApplicationSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ApplicationSetSpec `json:"spec"`
}

// ApplicationSetSpec is the spec of an ApplicationSet (subset).
type ApplicationSetSpec struct {
	GoTemplate        bool                      `json:"goTemplate,omitempty"`
	GoTemplateOptions []string                  `json:"goTemplateOptions,omitempty"`
	Generators        []ApplicationSetGenerator `json:"generators"`
	Strategy          *ApplicationSetStrategy   `json:"strategy,omitempty"`
	Template          ApplicationSetTemplate    `json:"template"`
	TemplatePatch     *string                   `json:"templatePatch,omitempty"`
}

// ApplicationSetGenerator is one generator; fleetgen uses list only.
type ApplicationSetGenerator struct {
	List *ListGenerator `json:"list,omitempty"`
}

// ListGenerator generates one Application per element.
type ListGenerator struct {
	Elements []map[string]any `json:"elements"`
}

// ApplicationSetStrategy is the rollout strategy.
type ApplicationSetStrategy struct {
	Type        string                         `json:"type,omitempty"`
	RollingSync *ApplicationSetRolloutStrategy `json:"rollingSync,omitempty"`
}

// ApplicationSetRolloutStrategy lists the steps of a RollingSync.
type ApplicationSetRolloutStrategy struct {
	Steps []ApplicationSetRolloutStep `json:"steps,omitempty"`
}

// ApplicationSetRolloutStep selects the Applications of one step.
type ApplicationSetRolloutStep struct {
	MatchExpressions []ApplicationMatchExpression `json:"matchExpressions,omitempty"`
	MaxUpdate        *string                      `json:"maxUpdate,omitempty"`
}

// ApplicationMatchExpression matches Application labels.
type ApplicationMatchExpression struct {
	Key      string   `json:"key,omitempty"`
	Operator string   `json:"operator,omitempty"`
	Values   []string `json:"values,omitempty"`
}

// ApplicationSetTemplate is the Application template.
type ApplicationSetTemplate struct {
	ApplicationSetTemplateMeta `json:"metadata"`
	Spec                       ApplicationSpec `json:"spec"`
}

// ApplicationSetTemplateMeta is the template's metadata.
type ApplicationSetTemplateMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Finalizers  []string          `json:"finalizers,omitempty"`
}

// ApplicationSpec is the spec of an Application (subset).
type ApplicationSpec struct {
	Source      *ApplicationSource     `json:"source,omitempty"`
	Destination ApplicationDestination `json:"destination"`
	Project     string                 `json:"project"`
	SyncPolicy  *SyncPolicy            `json:"syncPolicy,omitempty"`
}

// ApplicationSource is where an Application's manifests come from.
type ApplicationSource struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path,omitempty"`
	TargetRevision string `json:"targetRevision,omitempty"`
}

// ApplicationDestination is the cluster and namespace deployed to.
type ApplicationDestination struct {
	Server    string `json:"server,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// SyncPolicy controls when and how a sync is performed.
type SyncPolicy struct {
	Automated   *SyncPolicyAutomated `json:"automated,omitempty"`
	SyncOptions []string             `json:"syncOptions,omitempty"`
	Retry       *RetryStrategy       `json:"retry,omitempty"`
}

// SyncPolicyAutomated is automated sync.
type SyncPolicyAutomated struct {
	Prune      bool `json:"prune,omitempty"`
	SelfHeal   bool `json:"selfHeal,omitempty"`
	AllowEmpty bool `json:"allowEmpty,omitempty"`
}

// RetryStrategy is how failed syncs are retried.
type RetryStrategy struct {
	Limit   int64    `json:"limit,omitempty"`
	Backoff *Backoff `json:"backoff,omitempty"`
}

// Backoff is the retry backoff.
type Backoff struct {
	Duration    string `json:"duration,omitempty"`
	Factor      *int64 `json:"factor,omitempty"`
	MaxDuration string `json:"maxDuration,omitempty"`
}

// AppProject is argoproj.io/v1alpha1 AppProject (subset).
type AppProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AppProjectSpec `json:"spec"`
}

// AppProjectSpec is the spec of an AppProject (subset).
type AppProjectSpec struct {
	SourceRepos              []string                 `json:"sourceRepos,omitempty"`
	Destinations             []ApplicationDestination `json:"destinations,omitempty"`
	Description              string                   `json:"description,omitempty"`
	ClusterResourceWhitelist []metav1.GroupKind       `json:"clusterResourceWhitelist,omitempty"`
	SyncWindows              []SyncWindow             `json:"syncWindows,omitempty"`
	SourceNamespaces         []string                 `json:"sourceNamespaces,omitempty"`
}

// SyncWindow is a time window in which syncs are allowed or denied.
type SyncWindow struct {
	Kind         string   `json:"kind,omitempty"`
	Schedule     string   `json:"schedule,omitempty"`
	Duration     string   `json:"duration,omitempty"`
	Applications []string `json:"applications,omitempty"`
	Namespaces   []string `json:"namespaces,omitempty"`
	Clusters     []string `json:"clusters,omitempty"`
	ManualSync   bool     `json:"manualSync,omitempty"`
	TimeZone     string   `json:"timeZone,omitempty"`
}
