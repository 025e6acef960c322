package xlsform

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/vigil-mesh/vigil/incident"
)

// Conditions, as XLSForm writes them. The grammar read is small on
// purpose: terms SUBJECT OP VALUE or selected(SUBJECT, VALUE), joined all
// by and or all by or. SUBJECT is ${name} in a relevant and . in a flag
// or a constraint; VALUE is a quoted text or a whole number.

type condToken struct {
	kind byte // 'r' ${name}, '.' the answer, 's' text, 'n' number, 'o' comparison, 'w' word, '(' ')' ','
	text string
}

func lexCondition(expr string) ([]condToken, error) {
	var out []condToken
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(expr[i:], "${"):
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("${ without its }")
			}
			out = append(out, condToken{'r', strings.TrimSpace(expr[i+2 : i+end])})
			i += end + 1
		case c == '\'' || c == '"':
			end := strings.IndexByte(expr[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("a quote %c without its end", c)
			}
			out = append(out, condToken{'s', expr[i+1 : i+1+end]})
			i += end + 2
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(expr) && expr[i+1] >= '0' && expr[i+1] <= '9':
			j := i + 1
			for j < len(expr) && (expr[j] >= '0' && expr[j] <= '9' || expr[j] == '.') {
				j++
			}
			out = append(out, condToken{'n', expr[i:j]})
			i = j
		case c == '.':
			if i+1 < len(expr) && expr[i+1] == '.' {
				return nil, fmt.Errorf(".. (the parent) is not supported")
			}
			out = append(out, condToken{'.', "."})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(expr) && expr[i+1] == '=' {
				op += "="
			}
			if op == "!" {
				return nil, fmt.Errorf("! alone: write != or not")
			}
			out = append(out, condToken{'o', op})
			i += len(op)
		case c == '(' || c == ')' || c == ',':
			out = append(out, condToken{c, string(c)})
			i++
		case c < 0x80 && (unicode.IsLetter(rune(c)) || c == '_'):
			j := i + 1
			for j < len(expr) && expr[j] < 0x80 && (unicode.IsLetter(rune(expr[j])) || unicode.IsDigit(rune(expr[j])) || expr[j] == '_' || expr[j] == '-' || expr[j] == ':') {
				j++
			}
			out = append(out, condToken{'w', expr[i:j]})
			i = j
		default:
			r := []rune(expr[i:])[0]
			return nil, fmt.Errorf("%q is not understood here", string(r))
		}
	}
	return out, nil
}

const conditionGrammar = "write comparisons such as ${q} = 'yes', ${n} >= 3 or selected(${q}, 'ink'), joined all by and or all by or"

// parseCondition reads expr: over . when self, else over ${name}s. The
// terms it returns are checked against the form by checkTerms.
func parseCondition(expr string, self bool) (*incident.Condition, error) {
	toks, err := lexCondition(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty")
	}
	p := &condParser{toks: toks, self: self}
	c := &incident.Condition{}
	join := ""
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		c.Terms = append(c.Terms, t)
		if p.done() {
			break
		}
		w := p.next()
		if w.kind != 'w' || (w.text != "and" && w.text != "or") {
			return nil, fmt.Errorf("%q after a comparison: want and, or, or the end (%s)", w.text, conditionGrammar)
		}
		if join != "" && w.text != join {
			return nil, fmt.Errorf("mixes and with or: Vigil conditions are all and or all or, without parentheses")
		}
		join = w.text
		if p.done() {
			return nil, fmt.Errorf("ends with %s", join)
		}
	}
	if len(c.Terms) > incident.MaxConditionTerms {
		return nil, fmt.Errorf("%d comparisons, limit %d", len(c.Terms), incident.MaxConditionTerms)
	}
	c.Any = join == "or"
	return c, nil
}

type condParser struct {
	toks []condToken
	i    int
	self bool
}

func (p *condParser) done() bool { return p.i >= len(p.toks) }

func (p *condParser) next() condToken {
	if p.done() {
		return condToken{}
	}
	t := p.toks[p.i]
	p.i++
	return t
}

func (p *condParser) expect(kind byte, what string) (condToken, error) {
	t := p.next()
	if t.kind != kind {
		if t.kind == 0 {
			return t, fmt.Errorf("ends where %s was expected", what)
		}
		return t, fmt.Errorf("%q where %s was expected", t.text, what)
	}
	return t, nil
}

// subject reads the question a term looks at: "" for the answer itself.
func (p *condParser) subject() (string, error) {
	t := p.next()
	switch {
	case t.kind == 'r' && t.text == "":
		return "", fmt.Errorf("${} names no question")
	case t.kind == 'r' && !p.self:
		return t.text, nil
	case t.kind == '.' && p.self:
		return "", nil
	case t.kind == 'r':
		return "", fmt.Errorf("${%s}: a flag looks at the question's own answer, written .", t.text)
	case t.kind == '.':
		return "", fmt.Errorf(". is the answer being checked: name another question as ${name}")
	case t.kind == '(':
		return "", fmt.Errorf("parentheses are not supported (%s)", conditionGrammar)
	case t.kind == 'w' && (t.text == "not" || t.text == "count-selected" || strings.HasPrefix(t.text, "string")):
		return "", fmt.Errorf("%s() is not supported (%s)", t.text, conditionGrammar)
	case t.kind == 0:
		return "", fmt.Errorf("ends where a comparison was expected")
	}
	return "", fmt.Errorf("%q where a comparison was expected (%s)", t.text, conditionGrammar)
}

func (p *condParser) value() (string, error) {
	t := p.next()
	switch t.kind {
	case 's':
		return t.text, nil
	case 'n':
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s is not a whole number", t.text)
		}
		return strconv.FormatInt(n, 10), nil
	case 0:
		return "", fmt.Errorf("ends where a value was expected")
	}
	return "", fmt.Errorf("%q where a value ('text' or a number) was expected", t.text)
}

func (p *condParser) term() (incident.Term, error) {
	if !p.done() && p.toks[p.i].kind == 'w' && p.toks[p.i].text == "selected" {
		p.i++
		if _, err := p.expect('(', "( after selected"); err != nil {
			return incident.Term{}, err
		}
		q, err := p.subject()
		if err != nil {
			return incident.Term{}, err
		}
		if _, err := p.expect(',', "a comma"); err != nil {
			return incident.Term{}, err
		}
		v, err := p.value()
		if err != nil {
			return incident.Term{}, err
		}
		if _, err := p.expect(')', ")"); err != nil {
			return incident.Term{}, err
		}
		return incident.Term{Question: q, Op: "selected", Value: v}, nil
	}
	q, err := p.subject()
	if err != nil {
		return incident.Term{}, err
	}
	op, err := p.expect('o', "a comparison (= != < <= > >=)")
	if err != nil {
		return incident.Term{}, err
	}
	v, err := p.value()
	if err != nil {
		return incident.Term{}, err
	}
	return incident.Term{Question: q, Op: op.text, Value: v}, nil
}

// checkTerms checks each term of c against the question it looks at
// (question gives it, or refuses the name): the comparison suits the
// question's type, and a select's value is one of its choices.
func checkTerms(c *incident.Condition, question func(name string) (*incident.Question, error)) error {
	for _, t := range c.Terms {
		q, err := question(t.Question)
		if err != nil {
			return err
		}
		subject := "."
		if t.Question != "" {
			subject = "${" + t.Question + "}"
		}
		selects := q.Type == incident.QuestionSelectOne || q.Type == incident.QuestionSelectMultiple
		switch {
		case t.Value == "" && t.Op != "!=":
			return fmt.Errorf("%s %s '': a condition on a question left unanswered does not hold; only != '' (answered) is supported", subject, t.Op)
		case t.Value == "":
		case t.Op == "selected" && !selects:
			return fmt.Errorf("selected(%s, …): %s is %s question, not a select", subject, subject, incident.Article(q.Type))
		case selects:
			if t.Op != "=" && t.Op != "!=" && t.Op != "selected" {
				return fmt.Errorf("%s %s: a select's answer is compared with = or != or selected()", subject, t.Op)
			}
			if _, ok := q.Choice(t.Value); !ok {
				return fmt.Errorf("%q is not a choice of %s (%s)", t.Value, subject, incident.ChoiceNames(q))
			}
		case q.Type == incident.QuestionInteger:
			if t.Value == incident.AnswerNA && (t.Op == "=" || t.Op == "!=") {
				if !q.NA {
					return fmt.Errorf("%s is never na (its vigil_na is not yes)", subject)
				}
				break
			}
			if _, err := strconv.ParseInt(t.Value, 10, 64); err != nil {
				return fmt.Errorf("%s %s %q: %s is a whole number", subject, t.Op, t.Value, subject)
			}
		default:
			if t.Op != "=" && t.Op != "!=" {
				return fmt.Errorf("%s %s: %s is text, compared with = or != only", subject, t.Op, subject)
			}
		}
	}
	return nil
}

// parseBounds reads an integer constraint: . >= N, . <= N, or both
// joined by and.
func parseBounds(expr string) (lo, hi *int64, err error) {
	const want = "only . >= N, . <= N and the two joined by and are supported"
	c, err := parseCondition(expr, true)
	if err != nil {
		return nil, nil, fmt.Errorf("%v (%s)", err, want)
	}
	if c.Any || len(c.Terms) > 2 {
		return nil, nil, errors.New(want)
	}
	for _, t := range c.Terms {
		n, err := strconv.ParseInt(t.Value, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%q is not a whole number (%s)", t.Value, want)
		}
		switch {
		case t.Op == ">=" && lo == nil:
			lo = &n
		case t.Op == "<=" && hi == nil:
			hi = &n
		default:
			return nil, nil, errors.New(want)
		}
	}
	if lo != nil && hi != nil && *lo > *hi {
		return nil, nil, fmt.Errorf("the minimum %d is above the maximum %d", *lo, *hi)
	}
	return lo, hi, nil
}

// andConditions joins a group's condition and a question's: both must
// hold. Two conditions of one term or joined by and make one joined by
// and; a condition joined by or cannot be and-ed without parentheses.
func andConditions(outer, inner *incident.Condition) (*incident.Condition, error) {
	switch {
	case outer == nil:
		return inner, nil
	case inner == nil:
		return outer, nil
	case outer.Any && len(outer.Terms) > 1 || inner.Any && len(inner.Terms) > 1:
		return nil, errors.New("one of them is joined by or, and Vigil conditions are all and or all or, without parentheses")
	}
	terms := slices.Clone(outer.Terms)
	for _, t := range inner.Terms {
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	if len(terms) > incident.MaxConditionTerms {
		return nil, fmt.Errorf("together they make %d comparisons, limit %d", len(terms), incident.MaxConditionTerms)
	}
	return &incident.Condition{Terms: terms}, nil
}
