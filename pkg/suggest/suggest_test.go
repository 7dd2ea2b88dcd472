package suggest

import "testing"

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"region", "region", 0},
		{"regoin", "region", 1}, // transposition
		{"regin", "region", 1},
		{"regionx", "region", 1},
		{"arch", "type", 4},
		{"kitten", "sitting", 3},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	fields := []string{"name", "type", "region", "arch", "imagePullPolicy"}
	cases := []struct {
		s, want string
	}{
		{"regoin", "region"},
		{"REGION", "region"},
		{"imagePullPolicyy", "imagePullPolicy"},
		{"nam", "name"},
		{"zzz", ""},
		{"capacity", ""},
	}
	for _, c := range cases {
		if got := Closest(c.s, fields, Limit(2)); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}
