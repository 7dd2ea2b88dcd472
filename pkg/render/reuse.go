package render

// place checks the files that RenderOptions.Reuse gave for site s and, when
// they fit, fills that site's per-site results with them, as if its
// templates had run: results[first[i]+s] is file i's. The site's path
// templates are executed (they are cheap) to tie each file to the template
// that produced it, so that duplicate paths and clashes are reported exactly
// as in a full render. It reports whether the files fit; when they do not,
// no result is written and the site's templates run.
func (w *worker) place(s int, files []File, first []int, results []result) bool {
	site := &w.fleet.Sites[s]
	var data *Data // made when a path template needs executing
	// byPath maps each path the site's per-site templates produce to the
	// template's index in Engine.files.
	byPath := map[string]int{}
	for i, sf := range w.e.files {
		if !sf.perSite {
			continue
		}
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
		if _, dup := byPath[p]; dup || checkOutputPath(p) != nil {
			return false
		}
		byPath[p] = i
	}
	placed := make(map[int]File, len(files))
	for _, f := range files {
		i, ok := byPath[f.Path]
		if !ok || f.Site != site.Name || f.Seed != w.e.files[i].seed {
			return false
		}
		if _, dup := placed[i]; dup {
			return false
		}
		if f.Hash == "" {
			if f.Data == nil {
				return false
			}
			f.Hash = hashData(f.Data)
		}
		placed[i] = f
	}
	for _, i := range byPath {
		// A verbatim file is always written; only a content template can
		// render to nothing.
		if _, ok := placed[i]; !ok && w.e.files[i].content == nil {
			return false
		}
	}
	for i, f := range placed {
		results[first[i]+s] = result{file: f, ok: true}
	}
	return true
}
