package projectfile

import "testing"

// TestRequirementKeys: a pyproject.toml requirement and uv.lock's record of it compare equal
// whatever the spelling, and differ when what they require differs.
func TestRequirementKeys(t *testing.T) {
	for _, tc := range []struct {
		req, extra string
		locked     UVRequirement
		equal      bool
	}{
		{"fastapi>=0.104", "", UVRequirement{Name: "fastapi", Specifier: ">=0.104"}, true},
		{"Docker >= 7.1, < 8", "", UVRequirement{Name: "docker", Specifier: ">=7.1,<8"}, true},
		{"docker<8,>=7.1", "", UVRequirement{Name: "docker", Specifier: ">=7.1,<8"}, true},
		{"httpx[socks,http2]>=0.28", "", UVRequirement{Name: "httpx", Extras: []string{"http2", "socks"}, Specifier: ">=0.28"}, true},
		{"httpx[socks]>=0.28", "", UVRequirement{Name: "httpx", Extras: []string{"http2", "socks"}, Specifier: ">=0.28"}, false},
		{"zope.interface (>=5)", "", UVRequirement{Name: "zope-interface", Specifier: ">=5"}, true},
		{`sniffio ; python_version >= "3.12"`, "", UVRequirement{Name: "sniffio", Marker: "python_full_version >= '3.12'"}, true},
		{"boto3>=1.35.0", "boto3", UVRequirement{Name: "boto3", Specifier: ">=1.35.0", Marker: "extra == 'boto3'"}, true},
		{"boto3>=1.35.0", "", UVRequirement{Name: "boto3", Specifier: ">=1.35.0", Marker: "extra == 'boto3'"}, false},
		{"boto3>=1.35.0", "Bedrock", UVRequirement{Name: "boto3", Specifier: ">=1.35.0", Marker: "sys_platform == 'linux' and extra == 'bedrock'"}, true},
		{"pkg @ https://example.invalid/pkg-1.0.tar.gz", "", UVRequirement{Name: "pkg", URL: "https://example.invalid/pkg-1.0.tar.gz"}, true},
		{"fastapi>=0.105", "", UVRequirement{Name: "fastapi", Specifier: ">=0.104"}, false},
		{"openhands-sdk", "", UVRequirement{Name: "openhands-sdk"}, true},
	} {
		key, err := PyprojectRequirementKey(tc.req, tc.extra)
		if err != nil {
			t.Fatalf("%q: %v", tc.req, err)
		}
		if got := key == tc.locked.Key(); got != tc.equal {
			t.Errorf("%q (extra %q) is %s, the lock's %+v is %s: equal %t, want %t", tc.req, tc.extra, key, tc.locked, tc.locked.Key(), got, tc.equal)
		}
	}
	if _, err := PyprojectRequirementKey(">=1.0", ""); err == nil {
		t.Error("a requirement without a name was accepted")
	}
}
