package plan

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// RedactURL hides the password of a URL's user info, so a URL can be shown in messages.
// A string that does not parse as a URL with user info (a typo in an option, a URL without
// its scheme) but holds an '@' loses everything up to its last '@' instead, since that may
// be a password too: such strings are exactly the ones shown in validation errors.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && len(queryCredentials(u.RawQuery)) > 0 {
		raw = strings.Replace(raw, "?"+u.RawQuery, "?"+redactQuery(u.RawQuery), 1)
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		if _, hasPassword := u.User.Password(); !hasPassword {
			u.User = url.User("xxxxx") // a token passed as the user name
			return u.String()
		}
		return u.Redacted()
	}
	if err == nil && !strings.Contains(u.Opaque, "@") {
		return raw
	}
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return raw[:start] + "xxxxx" + raw[at:]
}

// hasCredentials tells whether a URL carries credentials: user info (a user, a password or a
// token), or a query parameter that holds one (credentialParameters).
func hasCredentials(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.User != nil || len(queryCredentials(u.RawQuery)) > 0)
}

// credentialParameters are the query parameters that carry a credential: tokens and keys by
// their usual names, and the signatures, credentials and session tokens of presigned S3,
// Google Cloud Storage and Azure (SAS) URLs. Lower case; parameters are compared so.
var credentialParameters = map[string]bool{
	"token": true, "access_token": true, "auth": true, "auth_token": true, "api_key": true, "apikey": true,
	"key": true, "password": true, "passwd": true, "secret": true, "client_secret": true,
	"sig": true, "signature": true, "x-amz-signature": true, "x-amz-credential": true,
	"x-amz-security-token": true, "x-goog-signature": true, "x-goog-credential": true,
}

// queryCredentials returns the values of a raw query's credential parameters, as written and,
// where it differs, decoded.
func queryCredentials(rawQuery string) []string {
	var out []string
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, ok := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if !ok || v == "" || err != nil || !credentialParameters[strings.ToLower(key)] {
			continue
		}
		out = append(out, v)
		if decoded, err := url.QueryUnescape(v); err == nil && decoded != v {
			out = append(out, decoded)
		}
	}
	return out
}

// redactQuery is a raw query with the values of its credential parameters replaced.
func redactQuery(rawQuery string) string {
	pairs := strings.Split(rawQuery, "&")
	for i, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); ok && v != "" && err == nil && credentialParameters[strings.ToLower(key)] {
			pairs[i] = k + "=xxxxx"
		}
	}
	return strings.Join(pairs, "&")
}

// credentialURL finds the scheme and user info of the URLs with credentials in a value, such
// as the proxy of HTTPS_PROXY=http://user:password@proxy:3128.
var credentialURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+@`)

// anyURL finds the URLs in a value, for their query credentials.
var anyURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s'"]+`)

// holdsCredentialURL tells whether a value holds a URL with credentials.
func holdsCredentialURL(v string) bool {
	if credentialURL.MatchString(v) {
		return true
	}
	for _, u := range anyURL.FindAllString(v, -1) {
		if hasCredentials(u) {
			return true
		}
	}
	return false
}

// HoldsCredentials tells whether a value holds a URL with credentials (user info or query
// credentials), such as a proxy's http://user:password@proxy:3128.
func HoldsCredentials(value string) bool { return holdsCredentialURL(value) }

// CredentialOptions names the options whose URL carries credentials, for messages, the
// environment_vars entries holding such a URL included.
func (o *Options) CredentialOptions() []string {
	var out []string
	for _, u := range o.urlOptions() {
		if hasCredentials(u.url) {
			out = append(out, u.name)
		}
	}
	for i, e := range o.environment()[:len(o.EnvironmentVars)] {
		if e.Secret() {
			out = append(out, fmt.Sprintf("environment_vars[%d]", i))
		}
	}
	return out
}

// redactURLs is RedactURL of each URL, space-separated.
func redactURLs(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = RedactURL(u)
	}
	return strings.Join(out, " ")
}

// Secrets returns the secrets the options hold: for output filters, and what the plan keeps
// out of every script, layer and file that outlives the build. They are the credentials of
// the URL options, the values of secret_environment_vars and the credentials of the URLs in
// environment_vars.
func (o *Options) Secrets() []string {
	var out []string
	for _, u := range o.urlOptions() {
		out = append(out, urlSecrets(u.url)...)
	}
	for _, e := range o.environment() {
		if e.Marked && e.Value != "" {
			out = append(out, e.Value)
		}
		for _, u := range credentialURL.FindAllString(e.Value, -1) {
			s := userInfoSecrets(u + "host")
			if s == nil { // user info that does not parse: all of it
				_, userInfo, _ := strings.Cut(strings.TrimSuffix(u, "@"), "://")
				s = []string{userInfo}
			}
			out = append(out, s...)
		}
		for _, u := range anyURL.FindAllString(e.Value, -1) {
			if parsed, err := url.Parse(u); err == nil {
				out = append(out, queryCredentials(parsed.RawQuery)...)
			}
		}
	}
	return out
}

// urlSecrets are the credentials a URL carries: its user info's secret and the values of its
// credential query parameters.
func urlSecrets(raw string) []string {
	out := userInfoSecrets(raw)
	if u, err := url.Parse(raw); err == nil {
		out = append(out, queryCredentials(u.RawQuery)...)
	}
	return out
}

// userInfoSecrets returns the secret of a URL's user info: its password, also as written
// when that differs, or a token passed as the user name.
func userInfoSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok && p != "" {
		// Output may show the password as written in the URL, percent-encoded.
		if _, encoded, _ := strings.Cut(u.User.String(), ":"); encoded != p {
			return []string{p, encoded}
		}
		return []string{p}
	}
	if name := u.User.Username(); name != "" {
		return []string{name} // a token passed as the user name
	}
	return nil
}

// controlCharacter is the first control character of s other than tab and newline (NUL, which
// bash drops, \x01 and \x7f, which it uses inside), or -1.
func controlCharacter(s string) rune {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return r
		}
	}
	return -1
}
