package secretlike

import "testing"

func TestKey(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"DB_PASSWORD", "PASSWORD"},
		{"db-passwd", "PASSWD"},
		{"API_KEY", "APIKEY"},
		{"apiKey", "APIKEY"},
		{"SSH_PRIVATE_KEY", "PRIVATEKEY"},
		{"AWS_CREDENTIALS", "CREDENTIAL"},
		{"CLIENT_SECRET", "SECRET"},
		{"GITHUB_TOKEN", "TOKEN"},
		{"DB_PASSWORD_FILE", ""},
		{"tokenPath", ""},
		{"secretName", ""},
		{"LOG_LEVEL", ""},
		{"KEY", ""},
		{"", ""},
	} {
		if got := Key(tc.key); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestValue(t *testing.T) {
	for _, tc := range []struct{ v, want string }{
		{"-----BEGIN RSA PRIVATE KEY-----\nabc\n", "a PEM private key"},
		{"x -----BEGIN OPENSSH PRIVATE KEY----- y", "a PEM private key"},
		{"-----BEGIN PGP PRIVATE KEY BLOCK-----", "a PEM private key"},
		{"-----BEGIN PRIVATE KEY-----", "a PEM private key"},
		{"id AKIAIOSFODNN7EXAMPLE", "an AWS access key id"},
		{"-----BEGIN CERTIFICATE-----", ""},
		{"-----BEGIN PUBLIC KEY-----", ""},
		{"info", ""},
	} {
		if got := Value(tc.v); got != tc.want {
			t.Errorf("Value(%q) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
