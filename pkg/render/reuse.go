package render

import "slices"

// place checks the files that RenderOptions.Reuse gave for site s and, when
// they fit, fills that site's per-site results with them, as if its
// templates had run: results[first[i]+s] is file i's. The site's path
// templates are executed (they are cheap) to tie each file to the template
// that produced it, so that duplicate paths and clashes are reported exactly
// as in a full render. It reports whether the files fit; when they do not,
// no result is written and the site's templates run.
func (w *worker) place(s int, files []File, first []int, results []result) bool {
	site := &w.fleet.Sites[s]
	if w.perSite == nil {
		for i, sf := range w.e.files {
			if sf.perSite {
				w.perSite = append(w.perSite, i)
			}
		}
	}
	var data *Data // made when a path template needs executing
	// paths[k] is the path the site's k-th per-site template
	// (e.files[perSite[k]]) produces, placed[k] the file given for it. A
	// site has a few per-site templates: slices searched in order cost
	// less than maps made for every site.
	paths := w.paths[:0]
	for _, i := range w.perSite {
		sf := w.e.files[i]
		var p string
		if sf.nameParts != nil {
			p = sf.sitePath(site.Name)
		} else {
			if data == nil {
				copied := *site
				data = &Data{Fleet: FleetData{Name: w.fleet.Name, GitOps: w.fleet.GitOps}, Site: &copied, Sites: w.fleet.Sites}
			}
			var err error
			if p, err = sf.outputPath(data); err != nil {
				return false
			}
		}
		if slices.Contains(paths, p) || checkOutputPath(p) != nil {
			return false
		}
		paths = append(paths, p)
	}
	w.paths = paths
	placed := slices.Grow(w.placed[:0], len(paths))[:len(paths)]
	clear(placed)
	w.placed = placed
	for _, f := range files {
		k := slices.Index(paths, f.Path)
		if k < 0 || f.Site != site.Name || f.Seed != w.e.files[w.perSite[k]].seed || placed[k].ok {
			return false
		}
		if f.Hash == "" {
			if f.Data == nil {
				return false
			}
			f.Hash = hashData(f.Data)
		}
		placed[k] = result{file: f, ok: true}
	}
	for k, r := range placed {
		// A verbatim file is always written; only a content template can
		// render to nothing.
		if !r.ok && w.e.files[w.perSite[k]].content == nil {
			return false
		}
	}
	for k, r := range placed {
		if r.ok {
			results[first[w.perSite[k]]+s] = r
		}
	}
	return true
}
