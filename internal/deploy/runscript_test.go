package deploy_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stubTool stands in for kubectl, helm, minikube and docker: it logs its
// command line to $STUB_LOG and answers the few queries run.sh reads.
const stubTool = `name=${0##*/}
printf '%s %s\n' "$name" "$*" >>"$STUB_LOG"
if [ "$name" = kubectl ]; then
  case " $* " in
    *" config current-context "*)
      if [ -n "${STUB_CURRENT_CONTEXT:-}" ]; then echo "$STUB_CURRENT_CONTEXT"; else exit 1; fi ;;
    *" get crd/"*) [ -z "${STUB_NO_ATOMIX:-}" ] || exit 1 ;;
    *" get mutatingwebhookconfigurations "*)
      echo mutatingwebhookconfiguration.admissionregistration.k8s.io/atomix-sidecar-controller ;;
    *" apply -f deployment.yaml "*) : >"$STUB_LOG.applied" ;;
    *" get deployment/"*)
      if [ -n "${STUB_NEW_DEPLOYMENT:-}" ] && [ ! -e "$STUB_LOG.applied" ]; then exit 1; fi
      echo atomix-failover:local ;;
    *" get pods "*) echo enhanced-failover-experiment-7d4b9-x2x4q ;;
    *" -f - "*) cat >/dev/null ;;
  esac
fi
exit 0
`

type scriptRun struct {
	code           int
	stdout, stderr string
	calls          []string // "tool args..." in order
}

// calls returns the logged command lines of tool.
func (r scriptRun) of(tool string) []string {
	var out []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, tool+" ") {
			out = append(out, c)
		}
	}
	return out
}

func (r scriptRun) called(substr string) bool {
	for _, c := range r.calls {
		if strings.Contains(c, substr) {
			return true
		}
	}
	return false
}

// runScript runs run.sh with only the named tools (stubs) on PATH, besides
// the few plain utilities it uses, and an environment of env alone.
func runScript(t *testing.T, tools []string, env []string, args ...string) scriptRun {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"awk", "cat", "dirname"} {
		p, err := exec.LookPath(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, u)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range tools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!"+bash+"\n"+stubTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	logFile := filepath.Join(dir, "calls.log")
	script, err := filepath.Abs(filepath.Join(repoRoot, "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + bin, "HOME=" + dir, "STUB_LOG=" + logFile}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := scriptRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(logFile); err == nil {
		r.calls = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	return r
}

var allTools = []string{"kubectl", "helm", "minikube", "docker"}

func TestRunScriptHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		r := runScript(t, nil, nil, arg)
		if r.code != 0 || len(r.calls) != 0 {
			t.Fatalf("run.sh %s: exit %d, calls %q, stderr %s", arg, r.code, r.calls, r.stderr)
		}
		for _, want := range []string{
			"--skip-minikube", "SKIP_MINIKUBE=1", "--skip-build", "SKIP_BUILD=1", "--skip-helm", "SKIP_HELM=1",
			"--kube-context", "KUBE_CONTEXT", "--image", "IMAGE", "--timeout", "TIMEOUT", "Usage: ./run.sh",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("run.sh %s does not mention %s:\n%s", arg, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "set -euo pipefail") || strings.Contains(r.stdout, "#") {
			t.Errorf("run.sh %s prints more than the header comment:\n%s", arg, r.stdout)
		}
	}
}

func TestRunScriptUsageErrors(t *testing.T) {
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--frobnicate"}, "unknown option: --frobnicate"},
		{nil, []string{"--skip-build", "now"}, "unexpected argument: now"},
		{nil, []string{"--kube-context"}, "--kube-context needs a value"},
		{nil, []string{"--image", "--skip-build"}, "--image needs a value"},
		{[]string{"SKIP_BUILD=maybe"}, nil, "SKIP_BUILD=maybe"},
	} {
		r := runScript(t, allTools, c.env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "--help") || len(r.calls) != 0 {
			t.Errorf("run.sh %q (env %q): exit %d, calls %q, stderr %q; want exit 2, no calls, %q",
				c.args, c.env, r.code, r.calls, r.stderr, c.want)
		}
	}
}

// TestRunScriptMinikube: with nothing said, the README's flow: minikube,
// docker build + image load, Helm, all on context minikube.
func TestRunScriptMinikube(t *testing.T) {
	r := runScript(t, allTools, []string{"STUB_CURRENT_CONTEXT=minikube"})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"minikube status",
		"docker info",
		"docker build -t atomix-failover:local .",
		"minikube image load atomix-failover:local",
		"helm --kube-context minikube upgrade --install atomix atomix/atomix --version 1.1.2",
		"kubectl --context minikube apply -f deployment.yaml",
		"kubectl --context minikube -n atomix-failover rollout restart deployment/enhanced-failover-experiment",
	} {
		if !r.called(want) {
			t.Errorf("no call %q in %q", want, r.calls)
		}
	}
	for _, c := range r.of("kubectl") {
		if !strings.HasPrefix(c, "kubectl --context minikube ") && c != "kubectl config current-context" {
			t.Errorf("kubectl call without --context minikube: %s", c)
		}
	}
	if r.called("set image") {
		t.Errorf("set image with the manifest's image: %q", r.calls)
	}
	if !strings.Contains(r.stdout, "  kubectl logs -f deployment/enhanced-failover-experiment -n atomix-failover") ||
		!strings.Contains(r.stdout, "kubectl cp atomix-failover/enhanced-failover-experiment-7d4b9-x2x4q:/app/logs/enhanced-failover-test-results.log ./results.log -c experiment") {
		t.Errorf("next steps:\n%s", r.stdout)
	}
}

// TestRunScriptAnyCluster: every step skipped, by flags or by environment,
// on the current context: kubectl alone is needed and called.
func TestRunScriptAnyCluster(t *testing.T) {
	for name, c := range map[string]struct {
		env  []string
		args []string
	}{
		"flags":              {nil, []string{"--skip-minikube", "--skip-build", "--skip-helm", "--kube-context", ""}},
		"flags=":             {nil, []string{"--skip-minikube", "--skip-build", "--skip-helm", "--kube-context="}},
		"env":                {[]string{"SKIP_MINIKUBE=1", "SKIP_BUILD=true", "SKIP_HELM=yes", "KUBE_CONTEXT="}, nil},
		"env, context unset": {[]string{"SKIP_MINIKUBE=1", "SKIP_BUILD=1", "SKIP_HELM=1"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			r := runScript(t, []string{"kubectl"}, append(c.env, "STUB_CURRENT_CONTEXT=harness"), c.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			for _, call := range r.calls {
				if !strings.HasPrefix(call, "kubectl ") || strings.Contains(call, "--context") {
					t.Errorf("call %q: want kubectl on the current context only", call)
				}
			}
			for _, want := range []string{
				"kubectl get crd/raftclusters.raft.atomix.io",
				"kubectl apply -f consensus-store.yaml",
				"kubectl apply -f storage-profile.yaml",
				"kubectl apply -f deployment.yaml",
				"kubectl -n atomix-failover rollout status deployment/enhanced-failover-experiment --timeout=600s",
			} {
				if !r.called(want) {
					t.Errorf("no call %q in %q", want, r.calls)
				}
			}
			if !strings.Contains(r.stderr, "using context harness") || !strings.Contains(r.stdout, "  kubectl logs -f") {
				t.Errorf("stderr %s\nstdout %s", r.stderr, r.stdout)
			}
		})
	}
}

// TestRunScriptOtherCluster: another cluster, built with docker, Helm
// installed, a named context and image.
func TestRunScriptOtherCluster(t *testing.T) {
	r := runScript(t, []string{"kubectl", "helm", "docker"}, []string{"STUB_CURRENT_CONTEXT=minikube", "IMAGE=ignored:1"},
		"--skip-minikube", "--kube-context", "kind-kind", "--image=localhost/atomix-failover:dev", "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"docker build -t localhost/atomix-failover:dev .",
		"helm --kube-context kind-kind upgrade --install atomix atomix/atomix",
		"kubectl --context kind-kind -n atomix-failover set image deployment/enhanced-failover-experiment experiment=localhost/atomix-failover:dev",
		"kubectl --context kind-kind -n atomix-failover rollout status deployment/enhanced-failover-experiment --timeout=90s",
	} {
		if !r.called(want) {
			t.Errorf("no call %q in %q", want, r.calls)
		}
	}
	if len(r.of("minikube")) > 0 {
		t.Errorf("minikube called: %q", r.of("minikube"))
	}
	if !strings.Contains(r.stderr, "local docker engine only") {
		t.Errorf("no warning that the image is not on the nodes:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "  kubectl --context kind-kind logs -f") {
		t.Errorf("next steps do not name the context:\n%s", r.stdout)
	}
}

// TestRunScriptRequiresOnlyWhatRuns: tools are checked for the steps that run.
func TestRunScriptRequiresOnlyWhatRuns(t *testing.T) {
	r := runScript(t, []string{"kubectl"}, nil)
	if r.code != 1 || len(r.calls) != 0 {
		t.Fatalf("exit %d, calls %q; want 1 before any call", r.code, r.calls)
	}
	for _, tool := range []string{"minikube", "helm", "docker"} {
		if !strings.Contains(r.stderr, tool+" is not installed") {
			t.Errorf("stderr does not name %s:\n%s", tool, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "kubectl is not installed") {
		t.Errorf("kubectl named missing:\n%s", r.stderr)
	}

	// minikube without helm or docker: only minikube and kubectl needed.
	r = runScript(t, []string{"kubectl", "minikube"}, []string{"STUB_CURRENT_CONTEXT=minikube"}, "--skip-build", "--skip-helm")
	if r.code != 0 || len(r.of("docker")) > 0 || len(r.of("helm")) > 0 || r.called("image load") {
		t.Errorf("exit %d, calls %q\n%s", r.code, r.calls, r.stderr)
	}
}

func TestRunScriptChecksAtomix(t *testing.T) {
	r := runScript(t, []string{"kubectl"}, []string{"STUB_CURRENT_CONTEXT=c", "STUB_NO_ATOMIX=1"},
		"--skip-minikube", "--skip-build", "--skip-helm")
	if r.code != 1 || !strings.Contains(r.stderr, "Atomix is not installed in context c") || r.called("apply") {
		t.Errorf("exit %d, calls %q\n%s", r.code, r.calls, r.stderr)
	}
	r = runScript(t, []string{"kubectl"}, nil, "--skip-minikube", "--skip-build", "--skip-helm")
	if r.code != 1 || !strings.Contains(r.stderr, "no current kubectl context") {
		t.Errorf("no current context: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRunScriptFirstDeployNoRestart: a Deployment applied for the first time
// starts its pod; a rollout restart right after would start a second one and
// kill the first mid-start (seen on a real cluster). A re-run restarts it.
func TestRunScriptFirstDeployNoRestart(t *testing.T) {
	restart := "kubectl -n atomix-failover rollout restart deployment/enhanced-failover-experiment"
	env := []string{"STUB_CURRENT_CONTEXT=c"}
	args := []string{"--skip-minikube", "--skip-build", "--skip-helm", "--kube-context="}
	r := runScript(t, []string{"kubectl"}, append(env, "STUB_NEW_DEPLOYMENT=1"), args...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.called(restart) {
		t.Errorf("first deploy restarted the rollout: %q", r.calls)
	}
	r = runScript(t, []string{"kubectl"}, env, args...)
	if r.code != 0 || !r.called(restart) {
		t.Errorf("re-run: exit %d, no call %q in %q", r.code, restart, r.calls)
	}
}
