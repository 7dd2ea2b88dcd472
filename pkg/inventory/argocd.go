package inventory

import "strings"

// argoFleet checks what Argo CD wiring (gitops.engine: argocd) cannot
// honour:
//
//   - a site with an ageRecipient: Argo CD does not decrypt SOPS files, so
//     the site's secrets would reach its cluster still encrypted (or the
//     sync would fail on them);
//   - a fleet name containing "--": the fleet's clusters are registered as
//     "<fleet>--<site>" and its AppProjects allow "<fleet>--*", so a fleet
//     named "a--b" would have clusters that fleet "a"'s projects also match.
func (c *checker) argoFleet(f *Fleet) {
	if f.GitOps.Engine != EngineArgoCD {
		return
	}
	if strings.Contains(f.Name, "--") && !c.src.isBad("fleet") {
		c.ps.add(c.src.at("fleet"), "", "fleet",
			"invalid value %s with gitops.engine argocd: must not contain \"--\", which separates the fleet from the site in the Argo CD cluster names (\"<fleet>--<site>\") the fleet's AppProjects match (see docs/gitops.md)", quote(f.Name))
	}
	for i := range f.Sites {
		s := &f.Sites[i]
		if s.AgeRecipient == "" {
			continue
		}
		c.ps.add(c.originPos(s, "ageRecipient", position{}), s.Name, "ageRecipient",
			"is set, but with gitops.engine argocd nothing decrypts the site's SOPS files (overlays/%s/secrets/): Argo CD applies them as they are in Git. Use gitops.engine flux, whose Kustomization decrypts with the site's key, or remove ageRecipient and deliver the site's secrets with External Secrets or Sealed Secrets (see docs/gitops.md)", s.Name)
	}
}
