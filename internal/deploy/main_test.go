// Package deploy_test keeps the deployment artifacts honest: the image that
// hack/image/main.go writes (the one the harness cluster runs) agrees with the
// Dockerfile's runtime stage and works, and run.sh runs only the steps and
// needs only the tools its flags ask for. It is a test-only package.
package deploy_test

import (
	"testing"

	"go.uber.org/goleak"
)

// repoRoot is the module root: the Dockerfile, run.sh, deployment.yaml and hack/.
const repoRoot = "../.."

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
