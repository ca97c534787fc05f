package ecrpostprocessor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
)

// faultConfig is a post-processor configuration on a fresh ECR double, with the client the
// post-processor makes (the SDK's standard retryer: 3 attempts).
func faultConfig(t *testing.T, repositories ...string) (*Config, *ecrtest.ECR, ecrAPI) {
	t.Helper()
	reg := ecrtest.NewRegistry(t, "AWS", "registry-password")
	api := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: "AKIDFAULTS", SecretAccessKey: "secret", Repositories: repositories})
	c := &Config{Repository: "team/app"}
	c.AccessKey, c.SecretKey, c.Region, c.ECREndpoint, c.SkipMetadataAPICheck = "AKIDFAULTS", "secret", "us-east-1", api.URL(), true
	create := true
	c.CreateRepository = &create
	c.ImageTagMutability, c.EncryptionType = "MUTABLE", "AES256"
	cfg, err := c.awsConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c, api, c.ecrClient(cfg)
}

// countOf counts op in calls.
func countOf(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// TestECRAPIFaults scripts faults into each ECR API call the post-processor makes: two
// faults in a row are retried through, three (the SDK's attempts) fail the call with a
// message naming the operation, within a bounded time; a stalled answer is cut by the
// per-attempt timeout like a fault.
func TestECRAPIFaults(t *testing.T) {
	old := apiAttemptTimeout
	apiAttemptTimeout = 300 * time.Millisecond
	t.Cleanup(func() { apiAttemptTimeout = old }) // after the parallel subtests
	ops := []struct {
		op, message string
		repos       []string
		call        func(ctx context.Context, c *Config, api ecrAPI) error
	}{
		{"GetAuthorizationToken", "getting an ECR authorization token", nil, func(ctx context.Context, _ *Config, api ecrAPI) error {
			_, err := login(ctx, api, "")
			return err
		}},
		{"DescribeRepositories", "looking up repository team/app", []string{"team/app"}, func(ctx context.Context, c *Config, api ecrAPI) error {
			_, err := ensureRepository(ctx, api, c)
			return err
		}},
		{"CreateRepository", "creating repository team/app", nil, func(ctx context.Context, c *Config, api ecrAPI) error {
			_, err := ensureRepository(ctx, api, c)
			return err
		}},
		{"DescribeImages", "looking up team/app:v1", []string{"team/app"}, func(ctx context.Context, c *Config, api ecrAPI) error {
			_, err := remoteDigest(ctx, api, c, "v1")
			return err
		}},
	}
	faults := []struct {
		name  string
		fault ecrtest.Fault
		says  string
	}{
		{"500", ecrtest.FaultInternal, "StatusCode: 500"},
		{"503", ecrtest.FaultUnavailable, "StatusCode: 503"},
		{"throttled", ecrtest.FaultThrottling, "ThrottlingException"},
		// The client's timeout reads "Client.Timeout exceeded" or "context deadline exceeded".
		{"slow", ecrtest.FaultSlow(time.Second), "request send failed"},
	}
	for _, o := range ops {
		for _, f := range faults {
			for _, n := range []int{2, 3} {
				t.Run(fmt.Sprintf("%s/%s/%d", o.op, f.name, n), func(t *testing.T) {
					t.Parallel()
					c, double, api := faultConfig(t, o.repos...)
					double.FailNext(o.op, f.fault, n)
					started := time.Now()
					// Bounded: the standard retryer's backoff is at most 20 s in all.
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					err := o.call(ctx, c, api)
					if got := countOf(double.Calls(), o.op); got != 3 {
						t.Errorf("%d attempts of %s, want 3", got, o.op)
					}
					if n < 3 {
						if err != nil {
							t.Errorf("%d faults, then: %v", n, err)
						}
						return
					}
					if err == nil {
						t.Fatal("every attempt failed, but the call succeeded")
					}
					for _, want := range []string{o.message, o.op, "exceeded maximum number of attempts, 3", f.says} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q lacks %q", err, want)
						}
					}
					t.Logf("gave up after %s: %v", time.Since(started).Round(100*time.Millisecond), err)
				})
			}
		}
	}
}

// TestECRAPIFaultRate: with every call of every operation failing at a rate of 30 % (fixed
// seeds), the post-processor's sequence of calls completes through the retries for each
// seed where no call draws three faults in a row, and fails naming the operation otherwise.
func TestECRAPIFaultRate(t *testing.T) {
	var completed, failed, calls int
	for seed := int64(1); seed <= 20; seed++ {
		c, double, api := faultConfig(t)
		double.FailRate("", ecrtest.FaultUnavailable, 0.3, seed)
		ctx := context.Background()
		err := func() error {
			if _, err := login(ctx, api, ""); err != nil {
				return err
			}
			if _, err := ensureRepository(ctx, api, c); err != nil {
				return err
			}
			_, err := remoteDigest(ctx, api, c, "v1")
			return err
		}()
		calls += len(double.Calls())
		if err != nil {
			failed++
			if !strings.Contains(err.Error(), "exceeded maximum number of attempts") {
				t.Errorf("seed %d: %v", seed, err)
			}
			continue
		}
		completed++
	}
	t.Logf("20 seeded runs at a 30%% fault rate: %d completed through retries, %d gave up naming the operation; %d API calls in all", completed, failed, calls)
	if completed == 0 {
		t.Error("no run completed: the retries do not absorb faults")
	}
}
