package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// stateDir is the directory of fleetgen's committed bookkeeping (the
// ledger) inside a tree. Advice names the directory rather than a file in
// it, so that it stays true however the ledger is laid out.
const stateDir = ".fleetgen"

// preCommitEnv is set to 1 by pre-commit in the environment of every hook
// it runs. pre-commit runs hooks on the staged files only: it stashes
// unstaged changes first, so a tree that generate wrote but that is not
// staged looks stale to check.
const preCommitEnv = "PRE_COMMIT"

// inPreCommit reports whether the command runs as a pre-commit hook.
func inPreCommit() bool { return os.Getenv(preCommitEnv) == "1" }

// printDriftAdvice tells the user how to bring the tree in line with the
// inventory, after check listed the drift: regenerate for stale, missing
// and extra files; for files edited by hand (which generate refuses to
// overwrite), where the change belongs and when --force is right. In a
// pre-commit hook it also says to stage the tree, since a generate that
// already ran answers "up to date".
func printDriftAdvice(w io.Writer, out string, drift []pipeline.Change, hook bool) {
	var edited []pipeline.Change
	others := 0
	for _, c := range drift {
		if c.Action == pipeline.Conflict {
			edited = append(edited, c)
		} else {
			others++
		}
	}
	if others > 0 {
		if hook {
			fmt.Fprintf(w, "%s: %d file(s) drifted from the inventory; run fleetgen generate and stage the tree (git add %s): this hook checks the staged files, so when generate answers \"up to date\" the tree is written but not staged\n",
				out, others, out)
		} else {
			fmt.Fprintf(w, "%s: %d file(s) drifted from the inventory; run fleetgen generate\n", out, others)
		}
	}
	if len(edited) > 0 {
		fmt.Fprintf(w, "%s: %d generated file(s) edited by hand; fleetgen generate will not overwrite them.\n", out, len(edited))
		printEditAdvice(w, out, edited)
	}
}

// printEditAdvice says where a hand edit of generated files belongs and
// when --force is right.
func printEditAdvice(w io.Writer, out string, edited []pipeline.Change) {
	local := filepath.Join(out, "overlays", "<site>", "local")
	var sites []string
	seen := map[string]bool{}
	for _, c := range edited {
		if c.Site != "" && !seen[c.Site] {
			seen[c.Site] = true
			sites = append(sites, c.Site)
		}
	}
	if len(sites) == 1 {
		local = filepath.Join(out, "overlays", sites[0], "local")
	}
	fmt.Fprintf(w, "  Where the change belongs:\n")
	fmt.Fprintf(w, "  - a change for one site: its own Component %s/ (fleetgen writes it once and never touches it again; add a patch there and list it in its kustomization.yaml)\n", local)
	fmt.Fprintf(w, "  - a value (config, images, capacity, labels, groups, components): the inventory\n")
	fmt.Fprintf(w, "  Then run fleetgen generate --force to put the generated files back. --force overwrites (or deletes) the hand-edited files: use it once the change is moved, or to discard it.\n")
}

// printLedgerAdvice explains a tree whose files match the inventory but
// whose ledger does not record them.
func printLedgerAdvice(w io.Writer, out string, hook bool) {
	state := filepath.Join(out, stateDir)
	if hook {
		fmt.Fprintf(w, "%s: the files match the inventory, but the staged ledger (%s/) does not record them: stage it (git add %s). This hook checks the staged files, and fleetgen generate already updated the ledger on disk.\n", out, state, state)
		return
	}
	fmt.Fprintf(w, "%s: the files match the inventory, but the ledger (%s/) does not record them: run fleetgen generate to record them. When checking staged files (a pre-commit hook), stage it instead: git add %s\n", out, state, state)
}

// printRetiredNotes names, for each site that left the inventory, what
// stays in its overlay directory (the hand-written local/ Component),
// that it is the user's and kept, and how to remove it. applied says
// whether the plan was written (generate) or only shown (--plan).
func printRetiredNotes(w io.Writer, out string, retired []pipeline.RetiredSite, applied bool) {
	for _, r := range retired {
		site, kept := r.Site, r.Kept
		dir := filepath.Join(out, "overlays", site)
		verb, keep := "were deleted", "was kept"
		if !applied {
			verb, keep = "will be deleted", "will be kept"
		}
		fmt.Fprintf(w, "note: site %s left the inventory: its generated files %s, but %s/%s %s: fleetgen writes local/ once for your own patches and never deletes it. Keep it if the site comes back; otherwise remove it: rm -r %s\n",
			site, verb, dir, strings.Join(kept, ", "+dir+"/"), keep, dir)
	}
}
