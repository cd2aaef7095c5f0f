// Command fakeworkspace serves the Databricks CLI's own fake workspace (libs/testserver, the one
// its acceptance tests deploy to) on 127.0.0.1, for the template's bundle tier.
//
// It prints the URL on its first line of stdout, appends every request it receives to the JSON
// Lines file given by -log (method, path, query, body), and stops on SIGTERM/SIGINT or when its
// stdin closes (so a test that dies never leaves it running).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/databricks/cli/libs/testserver"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// harness is the small testing interface testserver.New needs: failures are logged, not fatal,
// because an unknown endpoint must answer 501 to the CLI (which then fails the test) rather than
// stop the server.
type harness struct {
	mu       sync.Mutex
	cleanups []func()
	ctx      context.Context
}

func (h *harness) Log(args ...any)                 { fmt.Fprintln(os.Stderr, args...) }
func (h *harness) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (h *harness) Error(args ...any)               { h.Log(args...) }
func (h *harness) Errorf(format string, args ...any) {
	h.Logf(format, args...)
}
func (h *harness) Fatal(args ...any)                 { h.Log(args...); h.FailNow() }
func (h *harness) Fatalf(format string, args ...any) { h.Logf(format, args...); h.FailNow() }
func (h *harness) Skip(args ...any)                  { h.Log(args...) }
func (h *harness) Skipf(format string, args ...any)  { h.Logf(format, args...) }
func (h *harness) FailNow()                          { h.cleanup(); os.Exit(1) }
func (h *harness) Context() context.Context          { return h.ctx }
func (h *harness) Setenv(key, value string)          { _ = os.Setenv(key, value) }
func (h *harness) TempDir() string {
	dir, err := os.MkdirTemp("", "fakeworkspace")
	if err != nil {
		h.Fatal(err)
	}
	h.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
func (h *harness) Helper()      {}
func (h *harness) Name() string { return "fakeworkspace" }
func (h *harness) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

func (h *harness) cleanup() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
}

type loggedRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

var spToken = regexp.MustCompile(`^Bearer ` + testserver.ServicePrincipalTokenPrefix +
	`([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$`)

func servicePrincipal(authorization string) (string, bool) {
	m := spToken.FindStringSubmatch(authorization)
	if m == nil {
		return "", false
	}
	return strings.Join(m[1:], "-"), true
}

func setAlias(r testserver.Request) any {
	var body struct {
		VersionNum int `json:"version_num"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.VersionNum <= 0 {
		return testserver.Response{StatusCode: http.StatusBadRequest, Body: "version_num is required"}
	}
	defer r.Workspace.LockUnlock()()
	name, alias := r.Vars["full_name"], r.Vars["alias"]
	model, ok := r.Workspace.RegisteredModels[name]
	if !ok {
		return testserver.Response{StatusCode: http.StatusNotFound, Body: map[string]string{
			"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered model " + name + " does not exist"}}
	}
	aliases := []catalog.RegisteredModelAlias{{AliasName: alias, VersionNum: body.VersionNum}}
	for _, existing := range model.Aliases {
		if existing.AliasName != alias {
			aliases = append(aliases, existing)
		}
	}
	model.Aliases = aliases
	r.Workspace.RegisteredModels[name] = model
	return testserver.Response{Body: aliases[0]}
}

func main() {
	logPath := flag.String("log", "", "append every request to this JSON Lines file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	h := &harness{ctx: ctx}
	defer h.cleanup()

	server := testserver.New(h)
	// Registered before the defaults, so it wins: a token "dbapi1<32 hex>" is the service
	// principal whose application ID is that UUID, the identity CI deploys staging and prod with.
	server.Handle("GET", "/api/2.0/preview/scim/v2/Me", func(r testserver.Request) any {
		user := r.Workspace.CurrentUser()
		if id, ok := servicePrincipal(r.Headers.Get("Authorization")); ok {
			user = iam.User{Id: testserver.UserID, UserName: id, DisplayName: id}
		}
		return testserver.Response{
			Headers: map[string][]string{"X-Databricks-Org-Id": {"900800700600"}},
			Body:    user,
		}
	})
	// Unity Catalog's set-alias, which the fake lacks: the serving tier moves `champion` with it.
	server.Handle("PUT", "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}",
		func(r testserver.Request) any { return setAlias(r) })
	testserver.AddDefaultHandlers(server)

	if *logPath != "" {
		file, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			h.Fatalf("cannot open the request log: %s", err)
		}
		defer file.Close()
		var mu sync.Mutex
		encoder := json.NewEncoder(file)
		server.RequestCallback = func(r *testserver.Request) {
			entry := loggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
			if json.Valid(r.Body) {
				entry.Body = r.Body
			}
			mu.Lock()
			defer mu.Unlock()
			if err := encoder.Encode(entry); err != nil {
				h.Errorf("cannot log a request: %s", err)
			}
		}
	}

	fmt.Println(server.URL)

	// Stop when stdin closes: the parent test process owns the server's lifetime.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	<-ctx.Done()
}
