package web

import (
	"errors"
	"net/http"
	"strings"
)

// ErrorAnswer is how a package's API answers the errors that are (errors.Is) Err: with
// Status, Code and Message. An ErrorAnswer without a Message answers the error's own
// text from Err's on (MessageFrom), for sentinels whose wrapped text is written for
// people, such as the reason a field is refused.
type ErrorAnswer struct {
	Err     error
	Status  int
	Code    Code
	Message string
}

// ErrorAnswers map a package's errors to their answers: the first that matches an error
// answers it.
type ErrorAnswers []ErrorAnswer

// Write answers err with the first ErrorAnswer that matches it, and as a Fault when none
// does.
func (as ErrorAnswers) Write(w http.ResponseWriter, r *http.Request, err error) {
	for _, a := range as {
		if errors.Is(err, a.Err) {
			msg := a.Message
			if msg == "" {
				msg = MessageFrom(err, a.Err)
			}
			WriteError(w, a.Status, a.Code, msg)
			return
		}
	}
	Fault(w, r, err)
}

// Reply answers what a call returned: err as Write does when it is not nil, else v as
// JSON with status.
func (as ErrorAnswers) Reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		as.Write(w, r, err)
		return
	}
	WriteJSON(w, status, v)
}

// Reply answers what a call returned: err as a Fault when it is not nil, else v as JSON
// with status.
func Reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	ErrorAnswers(nil).Reply(w, r, status, v, err)
}

// MessageFrom is err's text from sentinel's on: the words written for people, without
// the wrapping context meant for the log.
func MessageFrom(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		return msg[i:]
	}
	return msg
}
