package inventory

import (
	"strings"
	"testing"
)

func TestCloseSchedule(t *testing.T) {
	for _, tc := range []struct{ schedule, duration, want, err string }{
		{"0 2 * * *", "2h", "0 4 * * *", ""},
		{"30 1 * * SUN", "90m", "0 3 * * SUN", ""},
		{"0 23 * * 1-5", "2h", "0 1 * * 2,3,4,5,6", ""},
		{"0 22 * * 6", "3h", "0 1 * * 0", ""},
		{"45 23 * * *", "30m", "15 0 * * *", ""},
		{"0 2 1 * *", "1h30m", "30 3 1 * *", ""},
		{"0 2 * * *", "59s", "1 2 * * *", ""},
		{"0 20 1 * *", "6h", "", "day of month and month"},
		{"*/15 2 * * *", "1h", "", "single minute and hour"},
		{"0 0 * * 0", "168h", "0 0 * * 0", ""},
	} {
		got, err := MaintenanceWindow{Schedule: tc.schedule, Duration: tc.duration}.CloseSchedule()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s + %s: err %v, want %q", tc.schedule, tc.duration, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s + %s = %q, %v; want %q", tc.schedule, tc.duration, got, err, tc.want)
		}
	}
}

func TestCheckPinnedImage(t *testing.T) {
	good := []string{DefaultKubectlImage, "mirror.local:5000/kubectl@sha256:" + sixtyFour}
	bad := []string{"registry.k8s.io/kubectl:v1.31.2", "kubectl@sha256:abc", "Registry/kubectl@sha256:" + sixtyFour}
	for _, s := range good {
		if msg := checkPinnedImage(s); msg != "" {
			t.Errorf("%s: %s", s, msg)
		}
	}
	for _, s := range bad {
		if checkPinnedImage(s) == "" {
			t.Errorf("%s: accepted", s)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
