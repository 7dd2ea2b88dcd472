package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// chartScriptCmds are the script commands that stand up a Helm chart
// repository, so scripts can pull charts without the network:
//
//	helm-package CHARTDIR REPODIR   package a chart into REPODIR and index REPODIR
//	serve DIR                       serve DIR over HTTP on the loopback; $SERVER is its URL
var chartScriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"helm-package": cmdHelmPackage,
	"serve":        cmdServe,
}

func cmdHelmPackage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: helm-package CHARTDIR REPODIR")
	}
	c, err := loader.LoadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	dir := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(dir, 0o755))
	_, err = chartutil.Save(c, dir)
	ts.Check(err)
	index, err := repo.IndexDirectory(dir, "")
	ts.Check(err)
	ts.Check(index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644))
}

func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve DIR")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	ts.Defer(srv.Close)
	ts.Setenv("SERVER", srv.URL)
}
