package inventory

import "testing"

// TestYAMLSyntaxErrors: a YAML syntax error names the offending line and
// column (not the line where the enclosing block starts) and says what is
// wrong in a short hint. header is lines 1-3.
func TestYAMLSyntaxErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{
			name: "tab in indentation",
			doc:  header + "sites:\n\t- name: s1\n",
			want: []string{"t.yaml:5:1: invalid YAML: found character that cannot start any token (indent with spaces: YAML does not allow tabs in indentation)"},
		},
		{
			name: "tab after spaces",
			doc:  header + "sites:\n  - name: s1\n  \ttype: store\n",
			want: []string{"t.yaml:6:3: invalid YAML:", "tabs in indentation"},
		},
		{
			name: "unclosed double quote",
			doc:  header + "sites:\n  - name: s1\n    region: \"eu-west\n    type: store\n",
			want: []string{`t.yaml:6:13: invalid YAML: found unexpected end of stream (the quoted value that starts here is not closed: add the closing ")`},
		},
		{
			name: "unclosed single quote after a closed one",
			doc:  header + "sites:\n  - {name: 's1', region: 'eu\n",
			want: []string{`t.yaml:5:`, `add the closing '`},
		},
		{
			name: "colon in a plain value",
			doc:  header + "sites:\n  - name: s1\n    config: {A: 1}\n    region: eu: west\n",
			want: []string{`t.yaml:7:15: invalid YAML: mapping values are not allowed in this context (a value that contains ": " must be quoted)`},
		},
		{
			name: "line indented under a key with a value",
			doc:  header + "sites:\n  - name: s1\n    type: store\n      region: eu-west\n",
			want: []string{`t.yaml:7:7: invalid YAML: mapping values are not allowed in this context (this line is indented under a key that already has a value`},
		},
		{
			name: "key indented less than its siblings",
			doc:  header + "defaults:\n  type: store\n region: eu-west\n" + oneSite,
			want: []string{`t.yaml:6:2: invalid YAML: did not find expected key (the indentation does not match the lines above`},
		},
		{
			name: "list item out of line",
			doc:  header + "sites:\n  - name: s1\n   - name: s2\n",
			want: []string{`t.yaml:6:4: invalid YAML:`, `the '- ' of one list, start in the same column`},
		},
		{
			name: "key without a colon",
			doc:  header + "sites:\n  - name: s1\n    type store\n",
			want: []string{`t.yaml:6:5: invalid YAML: could not find expected ':' (expected key: value here`},
		},
		{
			name: "value starting with @",
			doc:  header + "sites:\n  - name: s1\n    region: @eu\n",
			want: []string{"t.yaml:6:13: invalid YAML: found character that cannot start any token (a value cannot start with @ or `: quote it)"},
		},
		{
			name: "unknown escape",
			doc:  header + "sites:\n  - name: s1\n    config: {PATH: \"C:\\qtemp\"}\n",
			want: []string{`t.yaml:6:`, `invalid YAML: found unknown escape character (in double quotes a backslash starts an escape`},
		},
		{
			name: "unclosed flow list",
			doc:  header + "sites: [\n",
			want: []string{`t.yaml:4:8: invalid YAML:`},
		},
		{
			name: "unclosed flow mapping",
			doc:  header + "sites:\n  - {name: s1, type: store\n  - name: s2\n",
			want: []string{`t.yaml:5:5: invalid YAML: did not find expected ',' or '}' (the flow mapping { that starts here is not closed: add "}")`},
		},
	})
}

// TestBadIndentLine: the indentation scan finds the first line that lines
// up with no open block, and nothing in well-formed YAML.
func TestBadIndentLine(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{"a:\n  b: 1\n  c:\n    - x\n    - y: 1\n      z: 2\n  d: 3\ne: 4\n", 0},
		{"a:\n  b: |\n    text\n      more\n  c: 1\n", 0},
		{"a:\n  b: 1\n c: 2\n", 3},
		{"a: 1\n  b: 2\n", 2},
		{"s:\n  - n: a\n   - n: b\n", 3},
		{"s:\n- a\n- b:\n    c: 1\n", 0},
		{"# comment\n\na: # a comment\n  b: 1\n", 0},
	} {
		lines := splitLinesForTest(tc.doc)
		if got := badIndentLine(lines, 1); got != tc.want {
			t.Errorf("badIndentLine(%q) = %d, want %d", tc.doc, got, tc.want)
		}
	}
}

func splitLinesForTest(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
