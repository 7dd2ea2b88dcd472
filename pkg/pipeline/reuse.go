package pipeline

import (
	"path"
	"strings"
	"sync"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// reuser hands a render the files the last run rendered for sites whose
// render key is unchanged (render.RenderOptions.Reuse), known by hash and
// size only; their site facts and wiring summaries come from the index
// too. A nil *reuser reuses nothing.
type reuser struct {
	inc  *incremental
	prev *index.Index // the last run's, set on first use (index)
	once sync.Once

	groupOnce sync.Once
	bySite    map[string][]index.File

	mu     sync.Mutex
	reused map[string]bool
}

// reuser returns the reuser of a run, nil when the run keeps no index or
// must render every file's content (Options.NoShortcut). The last run's
// index is waited for on first use, in the render.
func (inc *incremental) reuser(opts Options) *reuser {
	if inc == nil || opts.NoShortcut {
		return nil
	}
	return &reuser{inc: inc, reused: map[string]bool{}}
}

// index returns the last run's index, nil when there is none or it has no
// render keys.
func (r *reuser) index() *index.Index {
	r.once.Do(func() {
		if prev := r.inc.last(); prev != nil && len(prev.Renders) > 0 {
			r.prev = prev
		}
	})
	return r.prev
}

func (r *reuser) group() {
	r.bySite = map[string][]index.File{}
	for _, f := range r.prev.Files {
		if f.Site != "" {
			r.bySite[f.Site] = append(r.bySite[f.Site], f)
		}
	}
}

func factsPath(site string) string { return path.Join("overlays", site, verify.SiteFactsFile) }

// files is render.RenderOptions.Reuse: the site's rendered files of the
// last run when its key is the same, without the files the pipeline adds
// after the render: the facts file and the site's chart files
// (overlays/<site>/charts/, addCharts). Were they handed over, the render
// would find paths no template of the site produces and run every
// template of the site again.
func (r *reuser) files(site, key string) ([]render.File, bool) {
	if k, ok := r.index().RenderKey(site); !ok || k != key {
		return nil, false
	}
	r.groupOnce.Do(r.group)
	facts := factsPath(site)
	chartFiles := path.Join("overlays", site, chartComponentDir) + "/"
	var out []render.File
	for _, f := range r.bySite[site] {
		if f.Path != facts && !strings.HasPrefix(f.Path, chartFiles) {
			out = append(out, render.File{Path: f.Path, Site: f.Site, Hash: f.Hash, Seed: f.Seed})
		}
	}
	r.mu.Lock()
	r.reused[site] = true
	r.mu.Unlock()
	return out, true
}

// options are the render options that reuse the last run's files.
func (r *reuser) options() func(site, key string) ([]render.File, bool) {
	if r == nil {
		return nil
	}
	return r.files
}

// any reports whether some site's files were reused.
func (r *reuser) any() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reused) > 0
}

// reusedSite reports whether the site's files were reused: its render key,
// which covers the site's whole value, is unchanged, and so is its
// verification target.
func (r *reuser) reusedSite(site string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reused[site]
}

// facts returns the last run's facts file of a site whose files were
// reused: the facts depend on the site alone, which its key covers.
func (r *reuser) facts(site string) (render.File, bool) {
	if r == nil {
		return render.File{}, false
	}
	if !r.reusedSite(site) {
		return render.File{}, false
	}
	p := factsPath(site)
	for _, f := range r.bySite[site] {
		if f.Path == p {
			return render.File{Path: f.Path, Site: f.Site, Hash: f.Hash, Seed: f.Seed}, true
		}
	}
	return render.File{}, false
}

// size is the size of a file the last run rendered (0 when unknown).
func (r *reuser) size(p string) int64 {
	f, _ := r.index().File(p)
	return f.Size
}

// wiring returns the summaries the index holds of the wiring files of
// tree, by path: of the files known only by their hash, and of the files
// rendered again with the content the index summarised (after a template
// edit, every site is rendered again, and most of its wiring comes out as
// before). A summary depends on the file's path and content alone, so the
// check need not decode and validate such a file again.
func (r *reuser) wiring(tree *render.Tree) map[string]gitops.Summary {
	if r == nil {
		return nil
	}
	known := map[string]gitops.Summary{}
	for _, f := range tree.Files {
		if f.Hash == "" {
			continue
		}
		if refs, ok := r.index().WiringRefs(f.Path, f.Hash); ok {
			known[f.Path] = wiringSummary(refs)
		}
	}
	return known
}
