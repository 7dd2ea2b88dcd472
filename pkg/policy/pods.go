package policy

import (
	"fmt"
	"slices"
	"strings"
)

// checkLimits requires a memory limit on every container (init containers
// included) and, where a limit is set, that it is at least the request. A
// CPU limit is optional: CPU is compressible, so an over-eager container is
// throttled rather than killing the node, and a CPU limit would throttle
// it even when the device is idle.
func checkLimits(e *env) []Finding {
	var out []Finding
	for _, p := range e.pods {
		for _, c := range p.containers() {
			if c.list == "ephemeralContainers" {
				continue // they cannot have resources
			}
			if Get(c.m, "resources", "limits", "memory") == nil {
				out = append(out, Finding{Object: p.id, Field: c.path + ".resources.limits.memory",
					Message: fmt.Sprintf("%s has no memory limit: an out-of-memory must kill the container, not the node", c.label())})
			}
			for _, name := range []string{"cpu", "memory"} {
				lv, rv := Get(c.m, "resources", "limits", name), Get(c.m, "resources", "requests", name)
				if lv == nil {
					continue
				}
				field := c.path + ".resources.limits." + name
				l, err := quantity(lv)
				if err != nil {
					out = append(out, Finding{Object: p.id, Field: field, Message: fmt.Sprintf("%s: %v", c.label(), err)})
					continue
				}
				if rv == nil {
					continue // the request defaults to the limit
				}
				r, err := quantity(rv)
				if err != nil {
					continue // capacity reports invalid requests
				}
				if l.Cmp(r) < 0 {
					out = append(out, Finding{Object: p.id, Field: field,
						Message: fmt.Sprintf("%s: %s limit %s is below its request %s", c.label(), name, l.String(), r.String())})
				}
			}
		}
	}
	return out
}

// checkArch requires every pod template to be pinned to the site's
// architecture by nodeSelector or by required node affinity; with the
// architecture unknown, to some architecture.
func checkArch(e *env) []Finding {
	arch := e.facts.Arch
	var out []Finding
	for _, p := range e.pods {
		pinned, wrong := false, false
		if v, ok := Get(p.spec, "nodeSelector", archLabel).(string); ok {
			field := p.path + ".nodeSelector[" + archLabel + "]"
			switch {
			case v == "":
				out = append(out, Finding{Object: p.id, Field: field, Message: "empty architecture"})
				wrong = true
			case arch != "" && v != arch:
				out = append(out, Finding{Object: p.id, Field: field, Message: fmt.Sprintf("pinned to %s but site %s runs %s", v, e.facts.Site, arch)})
				wrong = true
			default:
				pinned = true
			}
		}
		termsPath := p.path + ".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
		terms := slice(p.spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		everyTerm := len(terms) > 0
		for i, t := range terms {
			termPinned := false
			for j, x := range slice(t, "matchExpressions") {
				if str(x, "key") != archLabel || str(x, "operator") != "In" {
					continue
				}
				values := strs(x, "values")
				field := fmt.Sprintf("%s[%d].matchExpressions[%d].values", termsPath, i, j)
				var bad []string
				for _, v := range values {
					if arch != "" && v != arch {
						bad = append(bad, v)
					}
				}
				switch {
				case len(values) == 0:
					out = append(out, Finding{Object: p.id, Field: field, Message: "no architecture listed"})
					wrong = true
				case len(bad) > 0:
					out = append(out, Finding{Object: p.id, Field: field, Message: fmt.Sprintf("allows %s but site %s runs %s", strings.Join(bad, ", "), e.facts.Site, arch)})
					wrong = true
				default:
					termPinned = true
				}
			}
			everyTerm = everyTerm && termPinned
		}
		if everyTerm {
			pinned = true
		}
		if !pinned && !wrong {
			want := arch
			if want == "" {
				want = "an architecture"
			}
			out = append(out, Finding{Object: p.id, Field: p.path + ".nodeSelector",
				Message: fmt.Sprintf("not pinned to %s: set nodeSelector %s or a required node affinity on it", want, archLabel)})
		}
	}
	return out
}

// restrictedVolumeTypes returns the volume sources Pod Security Standard
// restricted allows. hostPath is left to host-access.
func restrictedVolumeTypes() []string {
	return []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
}

// safeSysctls returns the sysctls Pod Security Standard baseline allows.
func safeSysctls() []string {
	return []string{
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
	}
}

// seLinuxTypes returns the SELinux types Pod Security Standard baseline allows
// ("" is unset).
func seLinuxTypes() []string {
	return []string{"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
}

// checkPodSecurity applies Pod Security Standard restricted to every pod
// template, leaving host namespaces, privileged containers, hostPath and
// host ports to host-access, and adds read-only root filesystems and no
// automounted service account token.
func checkPodSecurity(e *env) []Finding {
	var out []Finding
	for _, p := range e.pods {
		add := func(field, format string, args ...any) {
			out = append(out, Finding{Object: p.id, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		psc := mapAt(p.spec, "securityContext")
		pscPath := p.path + ".securityContext"

		// Volumes.
		for i, v := range slice(p.spec, "volumes") {
			vm, _ := v.(map[string]any)
			for _, k := range sortedKeys(vm) {
				if k == "name" || k == "hostPath" || slices.Contains(restrictedVolumeTypes(), k) {
					continue
				}
				add(fmt.Sprintf("%s.volumes[%d].%s", p.path, i, k), "volume %q: type %s is not allowed (allowed: %s)", str(vm, "name"), k, strings.Join(restrictedVolumeTypes(), ", "))
			}
		}

		// Pod-level settings that containers can also set.
		podNonRoot, _ := boolAt(psc, "runAsNonRoot")
		if v, set := boolAt(psc, "runAsNonRoot"); set && !v {
			add(pscPath+".runAsNonRoot", "must not be false")
		}
		if count(psc, -1, "runAsUser") == 0 {
			add(pscPath+".runAsUser", "must not be 0 (root)")
		}
		podSeccomp := str(psc, "seccompProfile", "type")
		if podSeccomp != "" && podSeccomp != "RuntimeDefault" && podSeccomp != "Localhost" {
			add(pscPath+".seccompProfile.type", "%s is not allowed: use RuntimeDefault or Localhost", podSeccomp)
		}
		podSeccompOK := podSeccomp == "RuntimeDefault" || podSeccomp == "Localhost"
		out = append(out, hardeningChecks(p.id, pscPath, psc)...)
		for i, s := range slice(psc, "sysctls") {
			if n := str(s, "name"); !slices.Contains(safeSysctls(), n) {
				add(fmt.Sprintf("%s.sysctls[%d].name", pscPath, i), "sysctl %s is not in the safe set", n)
			}
		}

		for _, c := range p.containers() {
			sc := mapAt(c.m, "securityContext")
			scPath := c.path + ".securityContext"
			if v, set := boolAt(sc, "runAsNonRoot"); set && !v {
				add(scPath+".runAsNonRoot", "%s: must not be false", c.label())
			} else if !set && !podNonRoot {
				add(scPath+".runAsNonRoot", "%s: must be true (here or on the pod securityContext)", c.label())
			}
			if count(sc, -1, "runAsUser") == 0 {
				add(scPath+".runAsUser", "%s: must not be 0 (root)", c.label())
			}
			switch t := str(sc, "seccompProfile", "type"); {
			case t == "RuntimeDefault" || t == "Localhost":
			case t != "":
				add(scPath+".seccompProfile.type", "%s: %s is not allowed: use RuntimeDefault or Localhost", c.label(), t)
			case !podSeccompOK:
				add(scPath+".seccompProfile.type", "%s: must be RuntimeDefault or Localhost (here or on the pod securityContext)", c.label())
			}
			if v, set := boolAt(sc, "allowPrivilegeEscalation"); !set || v {
				add(scPath+".allowPrivilegeEscalation", "%s: must be false", c.label())
			}
			if drop := strs(sc, "capabilities", "drop"); !slices.Contains(drop, "ALL") {
				add(scPath+".capabilities.drop", "%s: must include ALL", c.label())
			}
			for i, a := range strs(sc, "capabilities", "add") {
				if a != "NET_BIND_SERVICE" {
					add(fmt.Sprintf("%s.capabilities.add[%d]", scPath, i), "%s: capability %s is not allowed (only NET_BIND_SERVICE)", c.label(), a)
				}
			}
			if v, _ := boolAt(sc, "readOnlyRootFilesystem"); !v {
				add(scPath+".readOnlyRootFilesystem", "%s: must be true (edge hardening: write to emptyDir or volumes instead)", c.label())
			}
			if pm := str(sc, "procMount"); pm != "" && pm != "Default" {
				add(scPath+".procMount", "%s: %s is not allowed", c.label(), pm)
			}
			for _, f := range hardeningChecks(p.id, scPath, sc) {
				f.Message = c.label() + ": " + f.Message
				out = append(out, f)
			}
		}

		if !tokenNotMounted(e, p) {
			add(p.path+".automountServiceAccountToken", "must be false (edge hardening: a stolen device must not yield API credentials; mount a projected token where one is needed)")
		}
	}
	return out
}

// hardeningChecks covers the AppArmor and SELinux settings that pods and
// containers share.
func hardeningChecks(id, path string, sc map[string]any) []Finding {
	var out []Finding
	if str(sc, "appArmorProfile", "type") == "Unconfined" {
		out = append(out, Finding{Object: id, Field: path + ".appArmorProfile.type", Message: "Unconfined is not allowed"})
	}
	if t := str(sc, "seLinuxOptions", "type"); !slices.Contains(seLinuxTypes(), t) {
		out = append(out, Finding{Object: id, Field: path + ".seLinuxOptions.type", Message: fmt.Sprintf("SELinux type %s is not allowed", t)})
	}
	for _, k := range []string{"user", "role"} {
		if str(sc, "seLinuxOptions", k) != "" {
			out = append(out, Finding{Object: id, Field: path + ".seLinuxOptions." + k, Message: fmt.Sprintf("SELinux %s must not be set", k)})
		}
	}
	return out
}

// tokenNotMounted reports whether the pod gets no service account token:
// automountServiceAccountToken false on the pod, or unset on the pod and
// false on its ServiceAccount when the overlay defines it.
func tokenNotMounted(e *env, p podTemplate) bool {
	if v, set := boolAt(p.spec, "automountServiceAccountToken"); set {
		return !v
	}
	sa := str(p.spec, "serviceAccountName")
	if sa == "" {
		sa = "default"
	}
	ns := str(p.obj, "metadata", "namespace")
	for _, o := range e.objs {
		if str(o, "kind") == "ServiceAccount" && str(o, "apiVersion") == "v1" &&
			str(o, "metadata", "name") == sa && str(o, "metadata", "namespace") == ns {
			v, set := boolAt(o, "automountServiceAccountToken")
			return set && !v
		}
	}
	return false
}

// checkHostAccess forbids host namespaces, hostPath volumes, privileged
// containers and host ports.
func checkHostAccess(e *env) []Finding {
	var out []Finding
	for _, p := range e.pods {
		for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
			if v, _ := boolAt(p.spec, k); v {
				out = append(out, Finding{Object: p.id, Field: p.path + "." + k, Message: "must not be true: the pod would share the device's " + strings.ToLower(strings.TrimPrefix(k, "host")) + " namespace"})
			}
		}
		for i, v := range slice(p.spec, "volumes") {
			if hp := Get(v, "hostPath"); hp != nil {
				out = append(out, Finding{Object: p.id, Field: fmt.Sprintf("%s.volumes[%d].hostPath", p.path, i),
					Message: fmt.Sprintf("volume %q mounts host path %q", str(v, "name"), str(hp, "path"))})
			}
		}
		for _, c := range p.containers() {
			if v, _ := boolAt(c.m, "securityContext", "privileged"); v {
				out = append(out, Finding{Object: p.id, Field: c.path + ".securityContext.privileged", Message: c.label() + " is privileged"})
			}
			if v, _ := boolAt(c.m, "securityContext", "windowsOptions", "hostProcess"); v {
				out = append(out, Finding{Object: p.id, Field: c.path + ".securityContext.windowsOptions.hostProcess", Message: c.label() + " is a host process"})
			}
			for i, port := range slice(c.m, "ports") {
				if hp := count(port, 0, "hostPort"); hp != 0 {
					out = append(out, Finding{Object: p.id, Field: fmt.Sprintf("%s.ports[%d].hostPort", c.path, i),
						Message: fmt.Sprintf("%s binds host port %d", c.label(), hp)})
				}
			}
		}
	}
	return out
}

// checkImagePinned forbids images without a tag or digest and :latest.
func checkImagePinned(e *env) []Finding {
	var out []Finding
	for _, p := range e.pods {
		for _, c := range p.containers() {
			img := str(c.m, "image")
			_, tag, digest := splitImage(img)
			switch {
			case img == "":
				out = append(out, Finding{Object: p.id, Field: c.path + ".image", Message: c.label() + " has no image"})
			case digest != "":
			case tag == "":
				out = append(out, Finding{Object: p.id, Field: c.path + ".image", Message: fmt.Sprintf("%s: image %q has no tag or digest", c.label(), img)})
			case tag == "latest":
				out = append(out, Finding{Object: p.id, Field: c.path + ".image", Message: fmt.Sprintf("%s: image %q uses :latest", c.label(), img)})
			}
		}
	}
	return out
}

// checkImageDigest requires every image to be pinned by a sha256 digest.
func checkImageDigest(e *env) []Finding {
	var out []Finding
	for _, p := range e.pods {
		for _, c := range p.containers() {
			img := str(c.m, "image")
			if _, _, digest := splitImage(img); !validSHA256(digest) {
				out = append(out, Finding{Object: p.id, Field: c.path + ".image", Message: fmt.Sprintf("%s: image %q is not pinned by @sha256: digest", c.label(), img)})
			}
		}
	}
	return out
}

// splitImage splits an image reference into name, tag and digest.
func splitImage(ref string) (name, tag, digest string) {
	name, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

func validSHA256(digest string) bool {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, r := range hex {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
