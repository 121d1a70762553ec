package account

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The strength of a new password (docs/domain.md rule 26): long enough without its
// spaces, not one character repeated, not a run of the keyboard or the alphabet, not
// the user's name, and not one of the commonest passwords.

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords are the passwords of common_passwords.txt, lowercased.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// IsCommonPassword reports whether password, lowercased, is one of the commonest.
func IsCommonPassword(password string) bool { return commonPasswords[strings.ToLower(password)] }

// checkPassword checks a new password of the user name: at least MinPasswordLen
// characters that are not whitespace, at most maxPasswordBytes bytes (what bcrypt hashes
// whole), not one character over and over, not a run such as 12345678 or abcdefgh, not
// the name (of 3 characters or more) with 4 or fewer more, and not one of the commonest passwords. A password that is not right gives
// a Refusal (ErrBadUser).
func checkPassword(name, password string) error {
	nonSpace := 0
	for _, r := range password {
		if !unicode.IsSpace(r) {
			nonSpace++
		}
	}
	lower := strings.ToLower(password)
	switch {
	case strings.TrimSpace(password) == "":
		return refuse(ErrBadUser, "密码不能只有空白")
	case nonSpace < MinPasswordLen:
		return refuse(ErrBadUser, "密码至少 %d 个字符（不计空格）", MinPasswordLen)
	case len(password) > maxPasswordBytes:
		return refuse(ErrBadUser, "密码过长（最多 %d 字节）", maxPasswordBytes)
	case oneChar(lower):
		return refuse(ErrBadUser, "密码不能是同一个字符的重复")
	case isRun(lower):
		return refuse(ErrBadUser, "密码不能是连续的数字或字母（如 12345678、abcdefgh）")
	case utf8.RuneCountInString(name) >= 3 && strings.Contains(lower, strings.ToLower(name)) && utf8.RuneCountInString(lower)-utf8.RuneCountInString(name) <= MinPasswordLen/2:
		return refuse(ErrBadUser, "密码不能是用户名或只比用户名多几个字符")
	case commonPasswords[lower] || commonPasswords[strings.Join(strings.Fields(lower), "")]:
		return refuse(ErrBadUser, "密码过于常见，容易被猜中，请换一个")
	}
	return nil
}

// oneChar reports whether s, spaces aside, is one character repeated.
func oneChar(s string) bool {
	var first rune = -1
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if first == -1 {
			first = r
		} else if r != first {
			return false
		}
	}
	return true
}

// isRun reports whether s steps by the same +1 or -1 from each character to the next
// (12345678, 87654321, abcdefgh), or follows a row of the keyboard (qwertyui).
func isRun(s string) bool {
	rs := []rune(s)
	step := rs[1] - rs[0]
	run := step == 1 || step == -1
	for i := 2; run && i < len(rs); i++ {
		run = rs[i]-rs[i-1] == step
	}
	if run {
		return true
	}
	for _, row := range []string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"} {
		if strings.Contains(row, s) || strings.Contains(reverse(row), s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}
