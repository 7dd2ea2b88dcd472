package schema

import (
	"fmt"
	"reflect"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	admissionregistrationv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authenticationv1beta1 "k8s.io/api/authentication/v1beta1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	coordinationv1 "k8s.io/api/coordination/v1"
	coordinationv1beta1 "k8s.io/api/coordination/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	resourcev1beta1 "k8s.io/api/resource/v1beta1"
	resourcev1beta2 "k8s.io/api/resource/v1beta2"
	schedulingv1 "k8s.io/api/scheduling/v1"
	schedulingv1beta1 "k8s.io/api/scheduling/v1beta1"
	storagev1 "k8s.io/api/storage/v1"
	storagev1beta1 "k8s.io/api/storage/v1beta1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	storagemigrationv1beta1 "k8s.io/api/storagemigration/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// builtinGroups registers the stable and beta API groups of k8s.io/api.
// Alpha groups are left out on purpose: they are off by default on a
// cluster, so an object using one is reported as Skipped rather than passed.
// Admission, API discovery and image policy types are left out too: they
// are wire formats of webhooks and discovery, never applied as objects.
var builtinGroups = [...]func(*runtime.Scheme) error{
	admissionregistrationv1.AddToScheme,
	admissionregistrationv1beta1.AddToScheme,
	appsv1.AddToScheme,
	authenticationv1.AddToScheme,
	authenticationv1beta1.AddToScheme,
	authorizationv1.AddToScheme,
	autoscalingv1.AddToScheme,
	autoscalingv2.AddToScheme,
	batchv1.AddToScheme,
	certificatesv1.AddToScheme,
	certificatesv1beta1.AddToScheme,
	coordinationv1.AddToScheme,
	coordinationv1beta1.AddToScheme,
	corev1.AddToScheme,
	discoveryv1.AddToScheme,
	eventsv1.AddToScheme,
	flowcontrolv1.AddToScheme,
	networkingv1.AddToScheme,
	networkingv1beta1.AddToScheme,
	nodev1.AddToScheme,
	policyv1.AddToScheme,
	rbacv1.AddToScheme,
	resourcev1.AddToScheme,
	resourcev1beta1.AddToScheme,
	resourcev1beta2.AddToScheme,
	schedulingv1.AddToScheme,
	schedulingv1beta1.AddToScheme,
	storagev1.AddToScheme,
	storagev1beta1.AddToScheme,
	storagemigrationv1.AddToScheme,
	storagemigrationv1beta1.AddToScheme,
}

// builtinTypes returns every kind of builtinGroups with its Go type. The
// option and watch kinds that AddToScheme adds to every group version from
// k8s.io/apimachinery (ListOptions, WatchEvent, ...) are dropped, as are kinds
// that the served API no longer has (see removedKind).
func builtinTypes() map[schema.GroupVersionKind]reflect.Type {
	s := runtime.NewScheme()
	for _, add := range builtinGroups {
		if err := add(s); err != nil {
			// AddToScheme only fails on conflicting registrations, which
			// would be a programming error in the list above.
			panic(fmt.Sprintf("registering built-in API types: %v", err))
		}
	}
	types := make(map[schema.GroupVersionKind]reflect.Type)
	for gvk, t := range s.AllKnownTypes() {
		if strings.HasPrefix(t.PkgPath(), "k8s.io/apimachinery/") {
			continue
		}
		if _, removed := removedKind(gvk); removed {
			continue
		}
		types[gvk] = t
	}
	return types
}

// removedKind reports kinds that k8s.io/api still ships Go types for (or that
// manifests still commonly use) but that the API server no longer serves, and
// which version replaced them, following the Kubernetes deprecated API
// migration guide. An object of such a kind gets an error, not Skipped: it
// cannot be applied to any cluster this tool targets.
func removedKind(gvk schema.GroupVersionKind) (string, bool) {
	gv := gvk.GroupVersion().String()
	switch gv {
	case "extensions/v1beta1":
		switch gvk.Kind {
		case "Ingress", "IngressList":
			return "removed in Kubernetes 1.22; use networking.k8s.io/v1", true
		case "NetworkPolicy", "NetworkPolicyList":
			return "removed in Kubernetes 1.16; use networking.k8s.io/v1", true
		case "PodSecurityPolicy", "PodSecurityPolicyList":
			return "removed in Kubernetes 1.25; use Pod Security admission", true
		}
		return "removed in Kubernetes 1.16; use apps/v1", true
	case "apps/v1beta1", "apps/v1beta2":
		return "removed in Kubernetes 1.16; use apps/v1", true
	case "rbac.authorization.k8s.io/v1beta1":
		return "removed in Kubernetes 1.22; use rbac.authorization.k8s.io/v1", true
	case "batch/v1beta1":
		return "removed in Kubernetes 1.25; use batch/v1", true
	case "autoscaling/v2beta1":
		return "removed in Kubernetes 1.25; use autoscaling/v2", true
	case "autoscaling/v2beta2":
		return "removed in Kubernetes 1.26; use autoscaling/v2", true
	case "policy/v1beta1":
		if strings.HasPrefix(gvk.Kind, "PodSecurityPolicy") {
			return "removed in Kubernetes 1.25; use Pod Security admission", true
		}
		return "removed in Kubernetes 1.25; use policy/v1", true
	case "discovery.k8s.io/v1beta1":
		return "removed in Kubernetes 1.25; use discovery.k8s.io/v1", true
	case "events.k8s.io/v1beta1":
		return "removed in Kubernetes 1.25; use events.k8s.io/v1", true
	case "node.k8s.io/v1beta1":
		return "removed in Kubernetes 1.25; use node.k8s.io/v1", true
	case "flowcontrol.apiserver.k8s.io/v1beta1":
		return "removed in Kubernetes 1.26; use flowcontrol.apiserver.k8s.io/v1", true
	case "flowcontrol.apiserver.k8s.io/v1beta2":
		return "removed in Kubernetes 1.29; use flowcontrol.apiserver.k8s.io/v1", true
	case "flowcontrol.apiserver.k8s.io/v1beta3":
		return "removed in Kubernetes 1.32; use flowcontrol.apiserver.k8s.io/v1", true
	case "apiextensions.k8s.io/v1beta1":
		return "removed in Kubernetes 1.22; use apiextensions.k8s.io/v1", true
	case "apiregistration.k8s.io/v1beta1":
		return "removed in Kubernetes 1.22; use apiregistration.k8s.io/v1", true
	case "networking.k8s.io/v1beta1":
		switch gvk.Kind {
		case "Ingress", "IngressList", "IngressClass", "IngressClassList":
			return "removed in Kubernetes 1.22; use networking.k8s.io/v1", true
		}
	case "admissionregistration.k8s.io/v1beta1":
		switch gvk.Kind {
		case "MutatingWebhookConfiguration", "MutatingWebhookConfigurationList",
			"ValidatingWebhookConfiguration", "ValidatingWebhookConfigurationList":
			return "removed in Kubernetes 1.22; use admissionregistration.k8s.io/v1", true
		}
	case "authentication.k8s.io/v1beta1":
		if gvk.Kind == "TokenReview" {
			return "removed in Kubernetes 1.22; use authentication.k8s.io/v1", true
		}
	case "authorization.k8s.io/v1beta1":
		return "removed in Kubernetes 1.22; use authorization.k8s.io/v1", true
	case "certificates.k8s.io/v1beta1":
		if strings.HasPrefix(gvk.Kind, "CertificateSigningRequest") {
			return "removed in Kubernetes 1.22; use certificates.k8s.io/v1", true
		}
	case "coordination.k8s.io/v1beta1":
		if strings.HasPrefix(gvk.Kind, "Lease") && !strings.HasPrefix(gvk.Kind, "LeaseCandidate") {
			return "removed in Kubernetes 1.22; use coordination.k8s.io/v1", true
		}
	case "scheduling.k8s.io/v1beta1":
		if strings.HasPrefix(gvk.Kind, "PriorityClass") {
			return "removed in Kubernetes 1.22; use scheduling.k8s.io/v1", true
		}
	case "storage.k8s.io/v1beta1":
		switch gvk.Kind {
		case "CSIStorageCapacity", "CSIStorageCapacityList":
			return "removed in Kubernetes 1.27; use storage.k8s.io/v1", true
		case "CSIDriver", "CSIDriverList", "CSINode", "CSINodeList",
			"StorageClass", "StorageClassList", "VolumeAttachment", "VolumeAttachmentList":
			return "removed in Kubernetes 1.22; use storage.k8s.io/v1", true
		}
	}
	return "", false
}
