package inventory

import (
	"strconv"
	"strings"
)

// addYAMLError reports a YAML syntax error at file:line:column with a
// short hint where the cause can be told from the text. The parser gives
// a message and, mostly, a line: often the line where the enclosing block
// starts rather than the offending one, and never a column. locateYAMLError
// finds the offending line and column in data from the message.
func addYAMLError(ps *problems, data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, after
			}
		}
	}
	pos, hint := locateYAMLError(data, line, msg)
	if pos.line == 0 && !strings.Contains(msg, "offset") {
		// The YAML parser leaves out the line when it is the first one.
		pos.line = 1
	}
	if hint != "" {
		ps.add(pos, "", "", "invalid YAML: %s (%s)", msg, hint)
		return
	}
	ps.add(pos, "", "", "invalid YAML: %s", msg)
}

// Hints for the usual YAML syntax errors.
const (
	hintTab          = "indent with spaces: YAML does not allow tabs in indentation"
	hintTokenStart   = "a value cannot start with @ or `: quote it"
	hintUnclosed     = "the quoted value that starts here is not closed: add the closing %s"
	hintEscape       = `in double quotes a backslash starts an escape (\n, \", \\): double the backslash, or use single quotes`
	hintColonInValue = `a value that contains ": " must be quoted`
	hintOverIndented = "this line is indented under a key that already has a value: line it up with the keys above"
	hintIndent       = "the indentation does not match the lines above: the keys of one mapping, and the '- ' of one list, start in the same column"
	hintNoColon      = "expected key: value here (a key needs \": \" after it; a list item starts with \"- \")"
	hintFlow         = "the %s that starts here is not closed: add %q"
)

// locateYAMLError returns the position (line and column, 1-based; 0 when
// unknown) of the YAML syntax error msg, which the parser reported at line
// (0: none), and a hint, or "" when the text does not tell.
func locateYAMLError(data []byte, line int, msg string) (position, string) {
	lines := strings.Split(string(data), "\n")
	at := func(l, c int) position { return position{line: l, col: c} }
	from := max(line, 1)
	switch {
	case strings.Contains(msg, "tab character"), strings.Contains(msg, "cannot start any token"):
		for l := from; l <= len(lines); l++ {
			text := lines[l-1]
			indent := len(text) - len(strings.TrimLeft(text, " \t"))
			if i := strings.IndexByte(text[:indent], '\t'); i >= 0 {
				return at(l, i+1), hintTab
			}
		}
		if strings.Contains(msg, "cannot start any token") {
			for l := from; l <= len(lines); l++ {
				if c := badTokenStart(lines[l-1]); c > 0 {
					return at(l, c), hintTokenStart
				}
			}
		}
	case strings.Contains(msg, "found unexpected end of stream") && line > 0 && line <= len(lines):
		if c, q := unclosedQuote(lines[line-1]); c > 0 {
			return at(line, c), strings.Replace(hintUnclosed, "%s", string(q), 1)
		}
	case strings.Contains(msg, "unknown escape character"):
		for l := from; l <= len(lines); l++ {
			if c := badEscape(lines[l-1]); c > 0 {
				return at(l, c), hintEscape
			}
		}
	case strings.Contains(msg, "mapping values are not allowed") && line > 0 && line <= len(lines):
		text := lines[line-1]
		colons := mappingColons(text)
		if len(colons) >= 2 {
			return at(line, colons[1]+1), hintColonInValue
		}
		return at(line, firstColumn(text)), hintOverIndented
	case strings.Contains(msg, "did not find expected key"),
		strings.Contains(msg, "did not find expected '-' indicator"),
		strings.Contains(msg, "could not find expected ':'"):
		if l := badIndentLine(lines, from); l > 0 {
			return at(l, firstColumn(lines[l-1])), hintIndent
		}
		if strings.Contains(msg, "could not find expected ':'") && line > 0 && line <= len(lines) {
			return at(line, firstColumn(lines[line-1])), hintNoColon
		}
	case strings.Contains(msg, "did not find expected ',' or"), strings.Contains(msg, "did not find expected node content"):
		for l := from; l <= len(lines); l++ {
			if c, b := unclosedFlow(lines[l-1]); c > 0 {
				what, closer := "flow list [", `"]"`
				if b == '{' {
					what, closer = "flow mapping {", `"}"`
				}
				return at(l, c), strings.Replace(strings.Replace(hintFlow, "%s", what, 1), "%q", closer, 1)
			}
		}
	}
	return at(line, 0), ""
}

// unclosedFlow returns the 1-based column and the bracket of the first [
// or { on the line that the line does not close, outside quotes and
// before a comment, or 0.
func unclosedFlow(text string) (int, byte) {
	var open []int
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '#' && (i == 0 || text[i-1] == ' '):
			i = len(text)
		case c == '"' || c == '\'':
			if end := closingQuote(text, i); end > 0 {
				i = end
			}
		case c == '[' || c == '{':
			open = append(open, i)
		case (c == ']' || c == '}') && len(open) > 0:
			open = open[:len(open)-1]
		}
	}
	if len(open) == 0 {
		return 0, 0
	}
	return open[0] + 1, text[open[0]]
}

// firstColumn is the 1-based column of the first character of text that
// is not a space.
func firstColumn(text string) int {
	return len(text) - len(strings.TrimLeft(text, " ")) + 1
}

// badTokenStart returns the 1-based column of a plain value starting with
// @ or ` (reserved indicators) on the line, or 0.
func badTokenStart(text string) int {
	for i := 0; i < len(text); i++ {
		if text[i] != '@' && text[i] != '`' {
			continue
		}
		before := strings.TrimRight(text[:i], " ")
		if before == "" || strings.HasSuffix(before, ":") || strings.HasSuffix(before, "-") ||
			strings.HasSuffix(before, "[") || strings.HasSuffix(before, "{") || strings.HasSuffix(before, ",") {
			return i + 1
		}
	}
	return 0
}

// unclosedQuote returns the 1-based column and the character of the quote
// that opens a value on the line and is not closed on it, or 0.
func unclosedQuote(text string) (int, byte) {
	for i := 0; i < len(text); i++ {
		q := text[i]
		if q == '#' && (i == 0 || text[i-1] == ' ') {
			return 0, 0 // a comment
		}
		if q != '"' && q != '\'' {
			continue
		}
		before := strings.TrimRight(text[:i], " ")
		if !(before == "" || strings.HasSuffix(before, ":") || strings.HasSuffix(before, "-") ||
			strings.HasSuffix(before, "[") || strings.HasSuffix(before, "{") || strings.HasSuffix(before, ",")) {
			continue // a quote inside a plain value
		}
		if end := closingQuote(text, i); end < 0 {
			return i + 1, q
		} else {
			i = end
		}
	}
	return 0, 0
}

// closingQuote returns the index of the quote that closes the one at
// text[open], or -1.
func closingQuote(text string, open int) int {
	q := text[open]
	for j := open + 1; j < len(text); j++ {
		switch {
		case q == '"' && text[j] == '\\':
			j++
		case q == '\'' && text[j] == '\'' && j+1 < len(text) && text[j+1] == '\'':
			j++
		case text[j] == q:
			return j
		}
	}
	return -1
}

// badEscape returns the 1-based column of an unknown escape inside a
// double-quoted value on the line, or 0.
func badEscape(text string) int {
	in := false
	for i := 0; i < len(text); i++ {
		switch {
		case text[i] == '"':
			in = !in
		case in && text[i] == '\\' && i+1 < len(text):
			if !strings.ContainsRune("0abtnvfre \"/\\N_LPxuU\t", rune(text[i+1])) {
				return i + 1
			}
			i++
		}
	}
	return 0
}

// mappingColons returns the indexes of the ':' on the line that end a key
// (followed by a space or the end of the line), outside quotes and before
// a comment.
func mappingColons(text string) []int {
	var out []int
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '#' && (i == 0 || text[i-1] == ' '):
			return out
		case c == '"' || c == '\'':
			if end := closingQuote(text, i); end > 0 {
				i = end
			}
		case c == ':' && (i+1 == len(text) || text[i+1] == ' '):
			out = append(out, i)
		}
	}
	return out
}

// badIndentLine scans the block structure from line from (1-based) and
// returns the first line whose indentation matches no open block: deeper
// than the line before when that line opened nothing, or between two open
// levels. It returns 0 when every line lines up.
func badIndentLine(lines []string, from int) int {
	var levels []int // indentation of the open blocks, increasing
	opens := false   // the previous line opened a block (key with no value, or "- ")
	for l := from; l <= len(lines); l++ {
		text := lines[l-1]
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "---") || strings.HasPrefix(trimmed, "\t") {
			return 0
		}
		indent := len(text) - len(trimmed)
		switch {
		case len(levels) == 0 || indent > levels[len(levels)-1]:
			if len(levels) > 0 && !opens {
				return l
			}
			levels = append(levels, indent)
		default:
			for len(levels) > 0 && levels[len(levels)-1] > indent {
				levels = levels[:len(levels)-1]
			}
			if len(levels) == 0 || levels[len(levels)-1] != indent {
				return l
			}
		}
		// A "- " item opens a block at the column of its content; a key
		// with no value (or a block scalar) opens one below.
		content, col := trimmed, indent
		for strings.HasPrefix(content, "- ") {
			inner := strings.TrimLeft(content[2:], " ")
			col += len(content) - len(inner)
			levels = append(levels, col)
			content = inner
		}
		if strings.HasPrefix(content, "[") || strings.HasPrefix(content, "{") || strings.HasPrefix(content, "\"") || strings.HasPrefix(content, "'") {
			return 0 // flow or quoted content may span lines
		}
		colons := mappingColons(content)
		switch {
		case len(colons) == 0:
			opens = content == "-"
		default:
			value := strings.TrimSpace(content[colons[0]+1:])
			if i := strings.Index(value, " #"); i >= 0 {
				value = strings.TrimSpace(value[:i])
			}
			if strings.HasPrefix(value, "#") {
				value = ""
			}
			if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") ||
				strings.HasPrefix(value, "[") || strings.HasPrefix(value, "{") {
				return 0 // block scalars and flow collections: the lines below follow other rules
			}
			opens = value == "" || strings.HasPrefix(value, "&")
		}
	}
	return 0
}
