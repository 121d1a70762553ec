package kb

import "errors"

// ErrNotFound is returned for an article id the index does not hold.
var ErrNotFound = errors.New("article not found")

// ErrInvalid wraps every validation failure of an article.
var ErrInvalid = errors.New("invalid article")
