package ecrpostprocessor

import (
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// prepareErrors runs Config.Prepare on raw over a valid base (the repository and region set)
// and returns the validation errors one by one (nil when the configuration is valid).
func prepareErrors(t *testing.T, raw map[string]interface{}) (*Config, []string) {
	t.Helper()
	base := map[string]interface{}{"repository": "agents/openhands-runtime", "region": "us-east-1"}
	for k, v := range raw {
		base[k] = v
	}
	var c Config
	err := c.Prepare(base)
	if err == nil {
		return &c, nil
	}
	var multi *packersdk.MultiError
	if !errors.As(err, &multi) {
		t.Fatalf("Prepare returned %T %v, want a *packer.MultiError of validation errors", err, err)
	}
	var out []string
	for _, e := range multi.Errors {
		out = append(out, e.Error())
	}
	return &c, out
}

// checkErrors compares the errors with want, in order: each error must start with its want
// (the post-processor's own messages are given whole; those of the plan's layout checks
// up to the rule they state).
func checkErrors(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestConfigPrepareValidation has a row for every validation branch of Config.Prepare and
// AccessConfig.prepare (and of the plan's layout checks the post-processor applies), with
// the exact errors each configuration gives, and valid configurations next to them.
func TestConfigPrepareValidation(t *testing.T) {
	const (
		badRepository = "is not an ECR repository name (lower case letters, digits, '.', '_', '-', '/')"
		badPath       = "must be an absolute, clean path of letters, digits, '.', '_', '-' and '/', other than /"
		keyPair       = "access_key and secret_key: set both or neither"
		tokenAlone    = "token: only used with access_key and secret_key"
		roleARN       = "assume_role.role_arn: required when the assume_role block is set"
		kmsWithAES    = `kms_key: only used with encryption_type = "KMS"`
	)
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		raw  map[string]interface{}
		want []string // nil: valid
	}{
		// Valid configurations.
		{name: "only the repository", raw: nil},
		{name: "every option set and valid", raw: map[string]interface{}{
			"repository": "team.a/sub_dir/open-hands", "registry_id": "123456789012",
			"tags":                 []string{"latest", "v1.2.3", "oh_v0.1.0_abc", "_x", "A" + long(127)},
			"image_tag_mutability": "IMMUTABLE", "encryption_type": "KMS", "kms_key": "arn:aws:kms:us-east-1:123456789012:key/k",
			"access_key": "AKID", "secret_key": "secret", "token": "session",
			"assume_role": map[string]interface{}{"role_arn": "arn:aws:iam::123456789012:role/push", "session_name": "ci", "external_id": "x"},
			"prefix":      "/opt/oh", "user": "agent_1", "env_name": "oh-3.12", "python_version": "3.13",
			"playwright_browsers_path": "/opt/pw",
			"verify": map[string]interface{}{"imports": []string{"openhands.core", "_private"}, "start_server_timeout": 1,
				"min_packages": 0, "commands": []string{"true"}},
		}},
		{name: "KMS without kms_key (the AWS managed key)", raw: map[string]interface{}{"encryption_type": "KMS"}},
		{name: "repository of 256 characters", raw: map[string]interface{}{"repository": "a/" + long(254)}},
		{name: "repository of 2 characters", raw: map[string]interface{}{"repository": "ab"}},
		{name: "user of 32 characters", raw: map[string]interface{}{"user": "_" + long(31)}},
		{name: "assume_role with role_arn only", raw: map[string]interface{}{"assume_role": map[string]interface{}{"role_arn": "arn:aws:iam::123456789012:role/push"}}},

		// repository
		{name: "repository missing", raw: map[string]interface{}{"repository": ""},
			want: []string{`repository: required: the ECR repository to push to, such as "agents/openhands-runtime"`}},
		{name: "repository in upper case", raw: map[string]interface{}{"repository": "Agents/Runtime"},
			want: []string{`repository: "Agents/Runtime" ` + badRepository}},
		{name: "repository with a leading slash", raw: map[string]interface{}{"repository": "/agents"},
			want: []string{`repository: "/agents" ` + badRepository}},
		{name: "repository with a trailing slash", raw: map[string]interface{}{"repository": "agents/"},
			want: []string{`repository: "agents/" ` + badRepository}},
		{name: "repository with two separators in a row", raw: map[string]interface{}{"repository": "agents..runtime"},
			want: []string{`repository: "agents..runtime" ` + badRepository}},
		{name: "repository with a tag", raw: map[string]interface{}{"repository": "agents/runtime:latest"},
			want: []string{`repository: "agents/runtime:latest" ` + badRepository}},
		{name: "repository of 257 characters", raw: map[string]interface{}{"repository": "a/" + long(255)},
			want: []string{`repository: "a/` + long(255) + `": ECR repository names are 2 to 256 characters long, this one has 257`}},
		{name: "repository of 1 character", raw: map[string]interface{}{"repository": "a"},
			want: []string{`repository: "a": ECR repository names are 2 to 256 characters long, this one has 1`}},

		// registry_id
		{name: "registry_id too short", raw: map[string]interface{}{"registry_id": "12345"},
			want: []string{`registry_id: "12345" is not a 12-digit AWS account id`}},
		{name: "registry_id too long", raw: map[string]interface{}{"registry_id": "1234567890123"},
			want: []string{`registry_id: "1234567890123" is not a 12-digit AWS account id`}},
		{name: "registry_id not digits", raw: map[string]interface{}{"registry_id": "12345678901a"},
			want: []string{`registry_id: "12345678901a" is not a 12-digit AWS account id`}},

		// tags
		{name: "tag with a space", raw: map[string]interface{}{"tags": []string{"ok", "not ok"}},
			want: []string{`tags[1]: "not ok" is not an image tag`}},
		{name: "tag starting with a dash", raw: map[string]interface{}{"tags": []string{"-x"}},
			want: []string{`tags[0]: "-x" is not an image tag`}},
		{name: "tag of 129 characters", raw: map[string]interface{}{"tags": []string{long(129)}},
			want: []string{`tags[0]: "` + long(129) + `" is not an image tag`}},
		{name: "empty tag", raw: map[string]interface{}{"tags": []string{""}},
			want: []string{`tags[0]: "" is not an image tag`}},
		{name: "every bad tag named by its index", raw: map[string]interface{}{"tags": []string{"a:b", "ok", "c/d"}},
			want: []string{`tags[0]: "a:b" is not an image tag`, `tags[2]: "c/d" is not an image tag`}},

		// image_tag_mutability
		{name: "image_tag_mutability in lower case", raw: map[string]interface{}{"image_tag_mutability": "mutable"},
			want: []string{`image_tag_mutability: "mutable" must be MUTABLE or IMMUTABLE`}},
		{name: "image_tag_mutability unknown", raw: map[string]interface{}{"image_tag_mutability": "SOMETIMES"},
			want: []string{`image_tag_mutability: "SOMETIMES" must be MUTABLE or IMMUTABLE`}},

		// encryption_type and kms_key
		{name: "encryption_type unknown", raw: map[string]interface{}{"encryption_type": "ROT13"},
			want: []string{`encryption_type: "ROT13" must be AES256 or KMS`}},
		{name: "encryption_type in lower case", raw: map[string]interface{}{"encryption_type": "kms", "kms_key": "k"},
			want: []string{`encryption_type: "kms" must be AES256 or KMS`}},
		{name: "kms_key with AES256", raw: map[string]interface{}{"encryption_type": "AES256", "kms_key": "alias/k"},
			want: []string{kmsWithAES}},
		{name: "kms_key with the default encryption", raw: map[string]interface{}{"kms_key": "alias/k"},
			want: []string{kmsWithAES}},

		// credentials
		{name: "access_key without secret_key", raw: map[string]interface{}{"access_key": "AKID"},
			want: []string{keyPair}},
		{name: "secret_key without access_key", raw: map[string]interface{}{"secret_key": "secret"},
			want: []string{keyPair}},
		{name: "token without keys", raw: map[string]interface{}{"token": "session"},
			want: []string{tokenAlone}},
		{name: "token with secret_key only", raw: map[string]interface{}{"secret_key": "secret", "token": "session"},
			want: []string{keyPair, tokenAlone}},
		{name: "token with access_key only", raw: map[string]interface{}{"access_key": "AKID", "token": "session"},
			want: []string{keyPair}},
		{name: "assume_role with session_name and no role_arn", raw: map[string]interface{}{"assume_role": map[string]interface{}{"session_name": "ci"}},
			want: []string{roleARN}},
		{name: "assume_role with external_id and no role_arn", raw: map[string]interface{}{"assume_role": map[string]interface{}{"external_id": "x"}},
			want: []string{roleARN}},

		// push_method, layer_compression, layer_compression_level
		{name: "zstd at level 22", raw: map[string]interface{}{"layer_compression": "zstd", "layer_compression_level": 22}},
		{name: "gzip at level 1", raw: map[string]interface{}{"layer_compression": "gzip", "layer_compression_level": 1}},
		{name: "the engine push", raw: map[string]interface{}{"push_method": "engine"}},
		{name: "push_method unknown", raw: map[string]interface{}{"push_method": "docker"},
			want: []string{`push_method: "docker" must be plugin or engine`}},
		{name: "layer_compression unknown", raw: map[string]interface{}{"layer_compression": "xz"},
			want: []string{`layer_compression: "xz" must be gzip or zstd`}},
		{name: "gzip level 10", raw: map[string]interface{}{"layer_compression_level": 10},
			want: []string{`layer_compression_level: 10 is not a gzip level: use 1 to 9, or leave it out for the default`}},
		{name: "zstd level 23", raw: map[string]interface{}{"layer_compression": "zstd", "layer_compression_level": 23},
			want: []string{`layer_compression_level: 23 is not a zstd level: use 1 to 22, or leave it out for the default`}},
		{name: "negative level", raw: map[string]interface{}{"layer_compression_level": -1},
			want: []string{`layer_compression_level: -1 is not a gzip level: use 1 to 9, or leave it out for the default`}},
		{name: "zstd with the engine push", raw: map[string]interface{}{"push_method": "engine", "layer_compression": "zstd"},
			want: []string{`layer_compression, layer_compression_level: the engine push compresses with gzip at its own level: remove them, or set push_method = "plugin"`}},
		{name: "a level with the engine push", raw: map[string]interface{}{"push_method": "engine", "layer_compression_level": 1},
			want: []string{`layer_compression, layer_compression_level: the engine push compresses with gzip at its own level: remove them, or set push_method = "plugin"`}},

		// the runtime layout in the image
		{name: "relative prefix", raw: map[string]interface{}{"prefix": "relative/path"},
			want: []string{`prefix: "relative/path" ` + badPath}},
		{name: "prefix /", raw: map[string]interface{}{"prefix": "/"},
			want: []string{`prefix: "/" ` + badPath}},
		{name: "prefix with a space", raw: map[string]interface{}{"prefix": "/open hands"},
			want: []string{`prefix: "/open hands" ` + badPath}},
		{name: "prefix not clean", raw: map[string]interface{}{"prefix": "/opt/../openhands"},
			want: []string{`prefix: "/opt/../openhands" ` + badPath}},
		{name: "prefix with a trailing slash", raw: map[string]interface{}{"prefix": "/openhands/"},
			want: []string{`prefix: "/openhands/" ` + badPath}},
		{name: "prefix with a quote", raw: map[string]interface{}{"prefix": "/open'hands"},
			want: []string{`prefix: "/open'hands" ` + badPath}},
		{name: "relative playwright_browsers_path", raw: map[string]interface{}{"playwright_browsers_path": "browsers"},
			want: []string{`playwright_browsers_path: "browsers" ` + badPath}},
		{name: "user in upper case", raw: map[string]interface{}{"user": "Root"},
			want: []string{`user: "Root" is not a valid user name`}},
		{name: "user starting with a digit", raw: map[string]interface{}{"user": "1agent"},
			want: []string{`user: "1agent" is not a valid user name`}},
		{name: "user of 33 characters", raw: map[string]interface{}{"user": long(33)},
			want: []string{`user: "` + long(33) + `" is not a valid user name`}},
		{name: "env_name with a space", raw: map[string]interface{}{"env_name": "my env"},
			want: []string{`env_name: "my env" may hold only letters, digits, '.', '_' and '-'`}},
		{name: "env_name with a slash", raw: map[string]interface{}{"env_name": "envs/oh"},
			want: []string{`env_name: "envs/oh" may hold only letters, digits, '.', '_' and '-'`}},
		{name: "python_version major only", raw: map[string]interface{}{"python_version": "3"},
			want: []string{`python_version: "3" is not a Python release the plan knows`}},
		{name: "python_version with a patch", raw: map[string]interface{}{"python_version": "3.12.1"},
			want: []string{`python_version: "3.12.1" is not a Python release the plan knows`}},
		{name: "python_version 2", raw: map[string]interface{}{"python_version": "2.7"},
			want: []string{`python_version: "2.7" is not a Python release the plan knows`}},
		{name: "verify.imports not a module", raw: map[string]interface{}{"verify": map[string]interface{}{"imports": []string{"json", "not a module", "1abc"}}},
			want: []string{`verify.imports[1]: "not a module" is not a Python module name`, `verify.imports[2]: "1abc" is not a Python module name`}},
		{name: "verify.start_server_timeout 0", raw: map[string]interface{}{"verify": map[string]interface{}{"start_server_timeout": 0}},
			want: []string{`verify.start_server_timeout: 0 must be at least 1`}},
		{name: "verify.start_server_timeout negative", raw: map[string]interface{}{"verify": map[string]interface{}{"start_server_timeout": -5}},
			want: []string{`verify.start_server_timeout: -5 must be at least 1`}},
		{name: "verify.min_packages negative", raw: map[string]interface{}{"verify": map[string]interface{}{"min_packages": -1}},
			want: []string{`verify.min_packages: -1 must not be negative`}},
		{name: "verify.commands blank", raw: map[string]interface{}{"verify": map[string]interface{}{"commands": []string{"true", "  "}}},
			want: []string{`verify.commands[1]: the command is empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := prepareErrors(t, tt.raw)
			checkErrors(t, got, tt.want)
		})
	}
}

// TestConfigPrepareReportsEveryErrorAtOnce sets one bad value for each check at the same
// time: Prepare must report all of them in one MultiError, not stop at the first.
func TestConfigPrepareReportsEveryErrorAtOnce(t *testing.T) {
	_, got := prepareErrors(t, map[string]interface{}{
		"repository":               "Agents/Runtime",
		"registry_id":              "12345",
		"tags":                     []string{"ok", "not ok"},
		"image_tag_mutability":     "SOMETIMES",
		"kms_key":                  "alias/k",
		"secret_key":               "secret",
		"token":                    "session",
		"assume_role":              map[string]interface{}{"external_id": "x"},
		"prefix":                   "relative",
		"playwright_browsers_path": "/",
		"user":                     "Root",
		"env_name":                 "my env",
		"python_version":           "3",
		"verify": map[string]interface{}{"imports": []string{"not a module"}, "start_server_timeout": 0,
			"min_packages": -1, "commands": []string{""}},
	})
	checkErrors(t, got, []string{
		"access_key and secret_key: set both or neither",
		"token: only used with access_key and secret_key",
		"assume_role.role_arn: required when the assume_role block is set",
		`repository: "Agents/Runtime" is not an ECR repository name`,
		`registry_id: "12345" is not a 12-digit AWS account id`,
		`tags[1]: "not ok" is not an image tag`,
		`image_tag_mutability: "SOMETIMES" must be MUTABLE or IMMUTABLE`,
		`kms_key: only used with encryption_type = "KMS"`,
		`prefix: "relative" must be an absolute`,
		`playwright_browsers_path: "/" must be an absolute`,
		`user: "Root" is not a valid user name`,
		`env_name: "my env" may hold only`,
		`python_version: "3" is not a Python release the plan knows`,
		`verify.imports[0]: "not a module" is not a Python module name`,
		`verify.start_server_timeout: 0 must be at least 1`,
		`verify.min_packages: -1 must not be negative`,
		`verify.commands[0]: the command is empty`,
	})
	// And an invalid encryption_type, which takes kms_key's place (one or the other).
	_, got = prepareErrors(t, map[string]interface{}{"repository": "", "encryption_type": "ROT13", "kms_key": "alias/k", "access_key": "AKID"})
	checkErrors(t, got, []string{
		"access_key and secret_key: set both or neither",
		"repository: required",
		`encryption_type: "ROT13" must be AES256 or KMS`,
	})
}

// TestConfigPrepareDefaults checks what an unset option becomes.
func TestConfigPrepareDefaults(t *testing.T) {
	c, errs := prepareErrors(t, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if c.CreateRepository == nil || !*c.CreateRepository {
		t.Errorf("create_repository defaults to %v, want true", c.CreateRepository)
	}
	if c.ImageTagMutability != "MUTABLE" || c.EncryptionType != "AES256" {
		t.Errorf("image_tag_mutability %q, encryption_type %q; want MUTABLE and AES256", c.ImageTagMutability, c.EncryptionType)
	}
	if c.Tags != nil || c.SkipPush || c.SkipVerify || c.ScanOnPush {
		t.Errorf("tags %q, skip_push %t, skip_verify %t, scan_on_push %t: want none set", c.Tags, c.SkipPush, c.SkipVerify, c.ScanOnPush)
	}
	c, errs = prepareErrors(t, map[string]interface{}{"create_repository": false})
	if errs != nil || *c.CreateRepository {
		t.Errorf("create_repository = false gave %v (%v)", *c.CreateRepository, errs)
	}
}

// TestConfigPrepareRefusesUnknownKeys: a misspelt option is an error, not ignored.
func TestConfigPrepareRefusesUnknownKeys(t *testing.T) {
	var c Config
	err := c.Prepare(map[string]interface{}{"repository": "agents/openhands-runtime", "repositry": "x"})
	if err == nil || !strings.Contains(err.Error(), "repositry") {
		t.Errorf("an unknown key: %v", err)
	}
}

// TestConfigPrepareRegion: a push needs a region, from the option or where the SDK finds one
// (AWS_REGION, AWS_DEFAULT_REGION, the profile's region); without any, Prepare says so.
func TestConfigPrepareRegion(t *testing.T) {
	const config = "[default]\nregion = eu-west-1\n\n[profile ci]\nregion = ap-south-1\n\n[profile bare]\noutput = json\n"
	tests := []struct {
		name    string
		env     map[string]string
		config  string // the shared config file, when set
		raw     map[string]interface{}
		wantErr string // "" when valid
	}{
		{name: "region set", raw: map[string]interface{}{"region": "us-east-2"}},
		{name: "AWS_REGION", env: map[string]string{"AWS_REGION": "us-west-2"}},
		{name: "AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "us-west-1"}},
		{name: "the default profile's region", config: config},
		{name: "the named profile's region", config: config, raw: map[string]interface{}{"profile": "ci"}},
		{name: "AWS_PROFILE's region", config: config, env: map[string]string{"AWS_PROFILE": "ci"}},
		{name: "nowhere", wantErr: errNoRegion.Error()},
		{name: "a profile without region", config: config, raw: map[string]interface{}{"profile": "bare"}, wantErr: errNoRegion.Error()},
		{name: "a profile that does not exist", config: config, raw: map[string]interface{}{"profile": "gone"},
			wantErr: "region: not set, and loading the AWS configuration to find one failed: failed to get shared config profile, gone"},
		{name: "nowhere, but nothing is pushed", raw: map[string]interface{}{"skip_push": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolateAWSEnvironment(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.config != "" {
				writeFile(t, filepath.Join(home, ".aws", "config"), tt.config)
			}
			raw := map[string]interface{}{"repository": "agents/openhands-runtime"}
			maps.Copy(raw, tt.raw)
			var c Config
			err := c.Prepare(raw)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Prepare: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Prepare: %v, want %q", err, tt.wantErr)
			}
		})
	}
}
