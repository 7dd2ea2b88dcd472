package inventory

import (
	"fmt"
	"regexp"
	"strings"
)

// Image names and references follow the grammar of the OCI distribution
// reference format (github.com/distribution/reference).
var (
	imageNameRE = regexp.MustCompile(`^` +
		// optional registry host with port, followed by "/"
		`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?` +
		// path components
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	imageTagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imageDigestRE = regexp.MustCompile(`^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
)

// maxImageNameLength is the longest image name the reference format allows.
const maxImageNameLength = 255

// checkImageName checks a key of images: an image name as the base
// manifests use it, without tag or digest. It returns why not, or "".
func checkImageName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case strings.ContainsAny(name, "@"):
		return "must be an image name without digest"
	case len(name) > maxImageNameLength:
		return fmt.Sprintf("is longer than %d characters", maxImageNameLength)
	case !imageNameRE.MatchString(name):
		if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
			return "must be an image name without tag"
		}
		return "must be an image name such as \"app\" or \"registry.example.com/shop/app\" (lowercase path, no spaces)"
	}
	return ""
}

// checkImageRef checks a value of images: a full, pinned reference
// NAME:TAG, NAME@DIGEST or NAME:TAG@DIGEST. It returns why not, or "".
func checkImageRef(ref string) string {
	const forms = "must be NAME:TAG, NAME@sha256:DIGEST or NAME:TAG@sha256:DIGEST"
	rest, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest && !imageDigestRE.MatchString(digest) {
		return fmt.Sprintf("invalid image reference %s: malformed digest %s: must be sha256: followed by 64 lowercase hex digits (or sha512: and 128)", quote(ref), quote(digest))
	}
	name, tag, hasTag := rest, "", false
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		name, tag, hasTag = rest[:i], rest[i+1:], true
	}
	if hasTag && !imageTagRE.MatchString(tag) {
		return fmt.Sprintf("invalid image reference %s: malformed tag %s: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", quote(ref), quote(tag))
	}
	if msg := checkImageName(name); msg != "" {
		return fmt.Sprintf("invalid image reference %s: name %s %s", quote(ref), quote(name), msg)
	}
	if !hasTag && !hasDigest {
		return fmt.Sprintf("invalid image reference %s: no tag or digest; %s", quote(ref), forms)
	}
	return ""
}
